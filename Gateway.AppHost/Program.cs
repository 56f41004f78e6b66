using Gateway.Hosting;
using Gateway.Hosting.Servers;

var builder = DistributedApplication.CreateBuilder(AppHostSettings.WithDashboardDefaults(args));
builder.Configuration["ASPIRE_DASHBOARD_DATA_DIRECTORY"] ??= Path.Combine(builder.DataDirectory(), "dashboard");

var postgres = builder.AddPostgresServer("postgres");
var redis = builder.AddRedisServer("redis");
var rabbitmq = builder.AddRabbitMQServer("rabbitmq");

// Keys generated on the first run and kept in the AppHost's user secrets: the one the edge signs each caller with,
// the edge's key-cache MAC key, the vault's key, and the key Identity encrypts its token-signing keys with.
var callerKey = builder.AddSecret("caller-token-key", SecretKind.Key);
var keyCacheKey = builder.AddSecret("key-cache-key", SecretKind.Key);
var vaultKey = builder.AddSecret("vault-key", SecretKind.Key);
var signingKeysKey = builder.AddSecret("signing-keys-key", SecretKind.Key);
const string CallerKey = "Gateway__CallerToken__Key";

var edgeUrl = new Uri(builder.Setting("edge-url") ?? "http://localhost:8080");
if (builder.ExecutionContext.IsRunMode && AppHostSettings.TakenAddress(builder, edgeUrl) is { } taken)
{
    Console.Error.WriteLine(taken);
    return 1;
}
// Browser apps allowed to call the edge from their own origin: the usual local dashboard ports (Next.js, Vite) unless
// --cors-origins names others (comma-separated; "*" for any). A published system allows none unless named (deploy/).
var corsOrigins = (builder.Setting("cors-origins")
        ?? (builder.ExecutionContext.IsRunMode ? "http://localhost:3000,http://127.0.0.1:3000,http://localhost:5173,http://127.0.0.1:5173" : ""))
    .Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
// Services run as in production unless asked (--services-environment Development).
var environment = builder.Setting("services-environment") ?? "Production";
// --replicas N: N processes of the edge and of every service, each on its own port behind a port of Aspire's
// orchestrator (DCP) that spreads connections over them (docs/scaling.md). One: each listens on its port itself.
var replicas = int.TryParse(builder.Setting("replicas"), out var asked) && asked > 1 ? asked : 1;

IResourceBuilder<ProjectResource> Service<TProject>(string name, int? port = null, string health = "/health/readiness", int instances = 1)
    where TProject : IProjectMetadata, new() =>
    builder.AddProject<TProject>(name)
        .WithHttpEndpoint(port: builder.ExecutionContext.IsRunMode ? port ?? FreePort.Next() : null, isProxied: instances > 1)
        .WithReplicas(instances)
        .WithEnvironment("DOTNET_ENVIRONMENT", environment).WithEnvironment("ASPNETCORE_ENVIRONMENT", environment)
        .WithHttpHealthCheck(health)
        .WithDashboardTelemetry()
        .AsBuiltBinary()
        .WithRestarts();

// Chat's model: the local OpenAI-compatible MockLlm, unless --upstream-url names a real one. It stands for a
// provider, outside Gateway: one instance whatever --replicas says.
var mockllm = Service<Projects.MockLlm>("mockllm", health: "/health");
var upstream = builder.Setting("upstream-url") is { } upstreamUrl
    ? ReferenceExpression.Create($"{upstreamUrl}")
    : ReferenceExpression.Create($"{mockllm.GetEndpoint("http")}/v1");

var identityDb = postgres.AddDatabase("identitydb");
var keysDb = postgres.AddDatabase("keysdb");
var billingDb = postgres.AddDatabase("billingdb");
var chatDb = postgres.AddDatabase("chatdb");
var devicesDb = postgres.AddDatabase("devicesdb");

var billing = Service<Projects.Gateway_Billing>("billing", instances: replicas)
    .WithReference(billingDb).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey)
    .WaitFor(billingDb).WaitFor(rabbitmq);

// Links Identity hands out (the invitation page, OAuth callbacks) point at the public URL, unless set explicitly.
// Identity reads the caller's balance from Billing for GET /api/user; it does not wait for it (the profile answers
// without a balance while Billing is down).
var identity = Service<Projects.Gateway_Identity>("identity", instances: replicas)
    .WithReference(identityDb).WithReference(redis).WithReference(rabbitmq).WithReference(billing)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Identity__Tokens__KeyEncryptionKey", signingKeysKey)
    .WithEnvironment("Identity__Invitations__AcceptUrl", builder.Configuration["Identity:Invitations:AcceptUrl"] ?? $"{edgeUrl.GetLeftPart(UriPartial.Authority)}/accept-invite")
    // Providers send the browser back to the web console's page for the callback (docs/console.md, "OAuth").
    .WithEnvironment("Identity__OAuth__CallbackBaseUrl", builder.Configuration["Identity:OAuth:CallbackBaseUrl"] ?? $"{edgeUrl.GetLeftPart(UriPartial.Authority)}/console")
    .WaitFor(identityDb).WaitFor(rabbitmq);
if (builder.ExecutionContext.IsRunMode)
{
    // One machine has no mail server: each mail is a file in <data folder>/mail/ (docs/running.md), never a log line.
    identity.WithEnvironment("Identity__Mail__Directory", Path.Combine(builder.DataDirectory(), "mail"));
}

var keys = Service<Projects.Gateway_Keys>("keys", instances: replicas)
    .WithReference(keysDb).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Keys__Vault__EncryptionKey", vaultKey)
    .WaitFor(keysDb).WaitFor(rabbitmq);

// Chat reads an assistant's settings from Identity when it starts it (and Identity shows the assistant's status from Chat).
var chat = Service<Projects.Gateway_Chat>("chat", instances: replicas)
    .WithReference(chatDb).WithReference(redis).WithReference(rabbitmq).WithReference(billing).WithReference(keys).WithReference(identity)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Chat__Upstream__BaseUrl", upstream)
    // Each user's assistant is a process of Chat's with its workspace in <data folder>/assistants/ (services/Chat/README.md).
    .WithEnvironment("Chat__Assistants__Directory", builder.ExecutionContext.IsRunMode ? Path.Combine(builder.DataDirectory(), "assistants") : "/data/assistants")
    .WaitFor(chatDb).WaitFor(rabbitmq).WaitFor(mockllm);
identity.WithReference(chat);

var devices = Service<Projects.Gateway_Devices>("devices", instances: replicas)
    .WithReference(devicesDb).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey)
    .WaitFor(devicesDb).WaitFor(rabbitmq).WaitFor(redis);

// Healthy when every service answers ready through it (/health/downstream): the system is up. Its readiness alone (what
// an orchestrator routes by) leaves the services out, so that one down does not take the whole API down.
Service<Projects.Gateway_Edge>("edge", edgeUrl.Port, health: "/health/downstream", instances: replicas)
    .WithReference(identity).WithReference(keys).WithReference(billing).WithReference(chat).WithReference(devices)
    .WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Edge__ApiKeys__CacheKey", keyCacheKey)
    .WithEnvironment(context =>
    {
        for (var i = 0; i < corsOrigins.Length; i++)
        {
            context.EnvironmentVariables[$"Edge__Cors__AllowedOrigins__{i}"] = corsOrigins[i];
        }
    })
    .WithExternalHttpEndpoints()
    // --edge-url's host is where the edge listens: localhost by default, 0.0.0.0 (or an address) to be reached from outside.
    .WithEndpoint("http", endpoint => endpoint.TargetHost = edgeUrl.Host)
    .WaitFor(identity).WaitFor(keys).WaitFor(billing).WaitFor(chat).WaitFor(devices)
    .AnnouncePublicUrl(edgeUrl);

builder.Build().Run();
return 0;
