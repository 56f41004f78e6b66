using Gateway.Kubernetes;

// Usage: Gateway.Kubernetes <aspire-manifest.json> <deploy folder>   (deploy/generate.sh runs both steps)
if (args is not [var manifest, var deploy])
{
    Console.Error.WriteLine("usage: Gateway.Kubernetes <aspire-manifest.json> <deploy folder>");
    return 2;
}
var files = DeployManifests.Generate(manifest);
// A project removed from the AppHost takes its file in base/ with it.
foreach (var stale in Directory.Exists(Path.Combine(deploy, "base")) ? Directory.GetFiles(Path.Combine(deploy, "base")) : [])
{
    if (!files.ContainsKey($"base/{Path.GetFileName(stale)}"))
    {
        File.Delete(stale);
    }
}
foreach (var (path, text) in files)
{
    var target = Path.Combine(deploy, path);
    Directory.CreateDirectory(Path.GetDirectoryName(target)!);
    File.WriteAllText(target, text);
}
Console.WriteLine($"Wrote {files.Count} files under {deploy}.");
return 0;
