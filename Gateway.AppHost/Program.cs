using Gateway.Hosting;

var builder = DistributedApplication.CreateBuilder(args);

var postgres = builder.AddPostgres("postgres");
var redis = builder.AddRedis("redis");
var rabbitmq = builder.AddRabbitMQ("rabbitmq");
// Secrets generated once and kept outside the data folder: the key the edge signs each caller with, the vault's
// key, and the key Identity encrypts its token-signing keys with.
var callerKey = builder.AddParameter("caller-token-key", ParameterDefault.RandomHex(32), secret: true);
var vaultKey = builder.AddParameter("vault-key", ParameterDefault.RandomBase64(32), secret: true);
var signingKeysKey = builder.AddParameter("signing-keys-key", ParameterDefault.RandomBase64(32), secret: true);
const string CallerKey = "Gateway__CallerToken__Key";
// Chat's model: the local OpenAI-compatible MockLlm, unless GATEWAY_UPSTREAM_URL (--upstream-url) names a real one.
var mockllm = builder.AddProject("mockllm", "tools/MockLlm/MockLlm.csproj").WithHttpHealthCheck("/health");
var upstream = builder.Configuration["GATEWAY_UPSTREAM_URL"] ?? $"{mockllm.Resource.Url}/v1";

var edgeUrl = (builder.Configuration["GATEWAY_EDGE_URL"] ?? "http://localhost:8080").TrimEnd('/');

// Links Identity hands out (the invitation page, OAuth callbacks) point at the public URL, unless set explicitly.
var identity = builder.AddProject("identity", "services/Identity/Gateway.Identity.csproj")
    .WithReference(postgres.AddDatabase("identitydb")).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Identity__Tokens__KeyEncryptionKey", signingKeysKey)
    .WithEnvironment("Identity__Invitations__AcceptUrl", builder.Configuration["Identity:Invitations:AcceptUrl"] ?? $"{edgeUrl}/accept-invite")
    .WithEnvironment("Identity__OAuth__CallbackBaseUrl", builder.Configuration["Identity:OAuth:CallbackBaseUrl"] ?? edgeUrl)
    .WaitFor(postgres).WaitFor(rabbitmq);

var keys = builder.AddProject("keys", "services/Keys/Gateway.Keys.csproj")
    .WithReference(postgres.AddDatabase("keysdb")).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Keys__Vault__EncryptionKey", vaultKey)
    .WaitFor(postgres).WaitFor(rabbitmq);

var billing = builder.AddProject("billing", "services/Billing/Gateway.Billing.csproj")
    .WithReference(postgres.AddDatabase("billingdb")).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq);

var chat = builder.AddProject("chat", "services/Chat/Gateway.Chat.csproj")
    .WithReference(postgres.AddDatabase("chatdb")).WithReference(redis).WithReference(rabbitmq).WithReference(billing)
    .WithEnvironment(CallerKey, callerKey).WithEnvironment("Chat__Upstream__BaseUrl", upstream)
    .WaitFor(postgres).WaitFor(rabbitmq).WaitFor(mockllm);

var devices = builder.AddProject("devices", "services/Devices/Gateway.Devices.csproj")
    .WithReference(postgres.AddDatabase("devicesdb")).WithReference(redis).WithReference(rabbitmq)
    .WithEnvironment(CallerKey, callerKey).WaitFor(postgres).WaitFor(rabbitmq).WaitFor(redis);

builder.AddProject("edge", "gateway/Yarp/Gateway.Edge.csproj")
    .WithReference(identity).WithReference(keys).WithReference(billing).WithReference(chat).WithReference(devices)
    .WithReference(redis).WithReference(rabbitmq).WithEnvironment(CallerKey, callerKey)
    .WithExternalHttpEndpoint(edgeUrl)
    .WaitFor(identity).WaitFor(keys).WaitFor(billing).WaitFor(chat).WaitFor(devices);

builder.Build().Run();
