[assembly: AssemblyFixture(typeof(GatewayInfrastructure))]
[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]
