[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

// The faults share one running system and each kills part of it: one at a time.
[assembly: CollectionBehavior(CollectionBehavior.CollectionPerAssembly)]
