using Gateway.MockLlm;

// A local, OpenAI-compatible model for development, tests and benchmarks. Not a model: it answers
// deterministic text, counts tokens honestly (o200k), and can be slow, fail or hang on request.
var app = MockLlmServer.Build(args);
app.Run();
