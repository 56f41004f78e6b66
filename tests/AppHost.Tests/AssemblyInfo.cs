using System.Runtime.Versioning;

[assembly: SupportedOSPlatform("linux")]

// Each test runs the whole system from this checkout: one at a time, so a test's processes are its own.
[assembly: Xunit.CollectionBehavior(Xunit.CollectionBehavior.CollectionPerAssembly)]
