namespace Gateway.Hosting.Orchestration;

/// <summary>A runner that can tell a project how to reach it (valid once it is ready).</summary>
internal interface IConnectionStringSource
{
    string ConnectionStringFor(IResource resource);
}
