// The runner tests measure time on a 2-core machine; running them side by side would make them judge each other's load.
[assembly: CollectionBehavior(DisableTestParallelization = true)]
