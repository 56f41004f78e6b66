using Gateway.MockLlm;

// A local model for development, tests and benchmarks, speaking OpenAI's chat completions and Anthropic's Messages API. Not a model: it answers
// deterministic text, counts tokens honestly (o200k), and can be slow, fail or hang on request.
var app = MockLlmServer.Build(args);
app.Run();
