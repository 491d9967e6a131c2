using System.Text;
using System.Text.Json;
using GrandPaymaster.Node.Api;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;

namespace GrandPaymaster.Node.Tests;

/// <summary>
/// The request reader on its own (no node): addresses as wallets check them (EIP-55, with the spec's own examples rather
/// than our encoder's output), duplicate fields at any depth, and numbers too long to be any value the API takes.
/// </summary>
public sealed class JsonRequestTests
{
    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d359")]
    [InlineData("0xdbF03B407c01E7cD3CBea99509d93f8DDDC8C6FB")]
    [InlineData("0xD1220A0cf47c7B9Be7A2E6BA89F429762e7b9aDb")]
    [InlineData("0x5aaeb6053f3e94c9b9a09f33669435e7ef1beaed")] // all lower case: no checksum
    [InlineData("0x5AAEB6053F3E94C9B9A09F33669435E7EF1BEAED")] // all upper case: no checksum
    [InlineData("0x52908400098527886E0F7030069857D2E4169EE7")] // EIP-55's all-caps example
    [InlineData("0x1111111111111111111111111111111111111111")] // no letters at all
    public void An_address_in_one_case_or_with_a_right_eip55_checksum_is_taken(string text)
    {
        Assert.True(AddressInput.TryParse(text, out var address, out var error), error);
        Assert.Equal(text.ToLowerInvariant(), address.Value);
    }

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD")] // last letter flipped to upper case
    [InlineData("0x5AAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")] // second letter flipped to upper case
    [InlineData("0xfB6916095ca1df60bB79Ce92cE3Ea74c37c5d35A")] // last digit changed: the checksum no longer fits the address
    [InlineData("0xdbf03B407c01E7cD3CBea99509d93f8DDDC8C6FB")] // one letter flipped to lower case
    public void A_mixed_case_address_with_a_wrong_checksum_is_refused_as_such(string text)
    {
        Assert.False(AddressInput.TryParse(text, out _, out var error));
        Assert.Contains("checksum", error);
    }

    [Theory]
    [InlineData("0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeA")]
    [InlineData("5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed00")]
    [InlineData("0X5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    [InlineData("0xgaAeb6053F3E94C9b9A09f33669435E7Ef1BeAed")]
    public void A_malformed_address_is_refused_for_its_form_not_its_checksum(string text)
    {
        Assert.False(AddressInput.TryParse(text, out _, out var error));
        Assert.Equal(AddressInput.FormatError, error);
    }

    [Fact]
    public async Task A_body_field_with_a_wrong_checksum_is_a_field_error()
    {
        var (request, problem) = await ReadAsync("""{"to":"0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD"}""");
        Assert.Null(problem);

        Assert.Null(request!.Address("to"));
        Assert.Contains("checksum", Assert.Single(request.Errors["to"]));
    }

    [Theory]
    [InlineData("""{"to":"0x1","to":"0x2"}""", "to")]
    [InlineData("""{"a":1,"b":{"c":1,"c":2}}""", "c")]
    [InlineData("""{"a":[{"x":1},{"y":1,"y":1}]}""", "y")]
    [InlineData("""{"to":"0x1","\u0074o":"0x2"}""", "to")] // an escaped spelling of the same name
    public async Task A_field_given_twice_at_any_depth_is_refused(string body, string field)
    {
        var (_, problem) = await ReadAsync(body);

        var answer = await ProblemOf(problem);
        Assert.Equal(400, answer.GetProperty("status").GetInt32());
        Assert.Equal("invalid_request", answer.GetProperty("code").GetString());
        Assert.Contains($"duplicate field \"{field}\"", answer.GetProperty("detail").GetString());
    }

    [Fact]
    public async Task The_same_name_in_sibling_objects_is_not_a_duplicate()
    {
        var (request, problem) = await ReadAsync("""{"a":{"x":1},"b":{"x":1},"x":1}""");

        Assert.Null(problem);
        Assert.NotNull(request);
    }

    [Fact]
    public async Task A_number_of_78_characters_is_read_and_one_of_79_is_refused_before_parsing()
    {
        var max = (System.Numerics.BigInteger.Pow(2, 256) - 1).ToString();
        Assert.Equal(78, max.Length);
        var (request, fits) = await ReadAsync($$"""{"gasLimit":{{max}}}""");
        var (_, tooLong) = await ReadAsync($$"""{"gasLimit":{{max}}0}""");
        var (_, longFraction) = await ReadAsync($$"""{"gasLimit":1.{{new string('0', 78)}}}""");

        Assert.Null(fits);
        Assert.Equal(System.Numerics.BigInteger.Pow(2, 256) - 1, request!.Quantity("gasLimit", required: true));
        foreach (var problem in new[] { tooLong, longFraction })
        {
            var answer = await ProblemOf(problem);
            Assert.Equal("invalid_request", answer.GetProperty("code").GetString());
            Assert.True(answer.GetProperty("errors").TryGetProperty("gasLimit", out _));
        }
    }

    [Theory]
    [InlineData("1e3")]
    [InlineData("1.0")]
    [InlineData("-0.5")]
    public async Task A_quantity_with_a_fraction_or_an_exponent_is_a_field_error(string number)
    {
        var (request, problem) = await ReadAsync($$"""{"gasLimit":{{number}}}""");
        Assert.Null(problem);

        Assert.Null(request!.Quantity("gasLimit", required: true));
        Assert.False(request.IsValid);
    }

    private static async Task<(JsonRequest? Request, IResult? Problem)> ReadAsync(string body)
    {
        var http = new DefaultHttpContext();
        var bytes = Encoding.UTF8.GetBytes(body);
        http.Request.Body = new MemoryStream(bytes);
        http.Request.ContentLength = bytes.Length;
        http.Request.ContentType = "application/json";
        return await JsonRequest.ReadAsync(http);
    }

    private static async Task<JsonElement> ProblemOf(IResult? problem)
    {
        Assert.NotNull(problem);
        var http = new DefaultHttpContext { RequestServices = new ServiceCollection().AddLogging().BuildServiceProvider() };
        var body = new MemoryStream();
        http.Response.Body = body;
        await problem.ExecuteAsync(http);
        return JsonDocument.Parse(body.ToArray()).RootElement;
    }
}
