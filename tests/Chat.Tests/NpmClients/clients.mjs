// Calls the edge through each npm client as an application would, and prints one line per call:
//   RESULT {"name", "text", "inputTokens", "outputTokens", ...}   or   FAIL name: message
// Usage: node clients.mjs <edge base URL ending in /v1> <sk_live_ key>. Every call gives up after 20 s; no retries.
import OpenAI from "openai";
import { createOpenAI } from "@ai-sdk/openai";
import { generateText, streamText } from "ai";
import { ChatOpenAI } from "@langchain/openai";

const [baseURL, apiKey] = process.argv.slice(2);
const timeout = 20_000;
const openai = new OpenAI({ baseURL, apiKey, timeout, maxRetries: 0 });
const provider = createOpenAI({ baseURL, apiKey });
let failed = false;

// Each prompt asks MockLlm for a different number of tokens, so each call's charge can be told apart.
const prompt = (name, tokens) => `Say something, ${name} [mock:tokens=${tokens}]`;
const total = (n) => (typeof n === "number" ? n : n?.total);

async function run(name, call) {
  try {
    console.log(`RESULT ${JSON.stringify({ name, ...(await call()) })}`);
  } catch (error) {
    failed = true;
    console.log(`FAIL ${name}: ${error?.stack ?? error}`);
  }
}

await run("openai.responses.create", async () => {
  const response = await openai.responses.create({
    model: "local-model", instructions: "Be brief.", input: prompt("openai.responses.create", 3), max_output_tokens: 50,
  });
  return { text: response.output_text, status: response.status, inputTokens: response.usage.input_tokens, outputTokens: response.usage.output_tokens };
});

await run("openai.responses.create stream", async () => {
  const stream = await openai.responses.create({
    model: "local-model", input: [{ role: "user", content: [{ type: "input_text", text: prompt("openai.responses.create stream", 4) }] }],
    max_output_tokens: 50, stream: true,
  });
  let text = "";
  let completed;
  const types = [];
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "response.output_text.delta") text += event.delta;
    if (event.type === "response.completed") completed = event.response;
  }
  return { text, status: completed.status, types: [...new Set(types)], inputTokens: completed.usage.input_tokens, outputTokens: completed.usage.output_tokens };
});

await run("openai.chat.completions.create", async () => {
  const completion = await openai.chat.completions.create({
    model: "local-model", messages: [{ role: "user", content: prompt("openai.chat.completions.create", 5) }], max_tokens: 50,
  });
  return { text: completion.choices[0].message.content, inputTokens: completion.usage.prompt_tokens, outputTokens: completion.usage.completion_tokens };
});

await run("openai.models.retrieve", async () => {
  const model = await openai.models.retrieve("local-model");
  const missing = await openai.models.retrieve("no-such-model").then(() => null, (error) => ({ status: error.status, code: error.code }));
  return { id: model.id, object: model.object, missing };
});

await run("openai.embeddings.create", async () => {
  // The client asks for base64 and decodes it unless told otherwise.
  const embeddings = await openai.embeddings.create({ model: "local-embedding", input: ["first text", "second text"], dimensions: 8 });
  return { vectors: embeddings.data.map((d) => d.embedding), inputTokens: embeddings.usage.prompt_tokens, outputTokens: 0 };
});

await run("ai.generateText", async () => {
  const result = await generateText({
    model: provider("local-model"), prompt: prompt("ai.generateText", 6), maxOutputTokens: 50, maxRetries: 0, abortSignal: AbortSignal.timeout(timeout),
  });
  return { text: result.text, finishReason: result.finishReason, inputTokens: total(result.usage.inputTokens), outputTokens: total(result.usage.outputTokens) };
});

await run("ai.streamText", async () => {
  const result = streamText({
    model: provider("local-model"), prompt: prompt("ai.streamText", 7), maxOutputTokens: 50, maxRetries: 0, abortSignal: AbortSignal.timeout(timeout),
    onError: ({ error }) => { throw error; },
  });
  let text = "";
  for await (const part of result.textStream) text += part;
  const usage = await result.usage;
  return { text, finishReason: await result.finishReason, inputTokens: total(usage.inputTokens), outputTokens: total(usage.outputTokens) };
});

for (const useResponsesApi of [true, false]) {
  const mode = useResponsesApi ? "responses" : "completions";
  const chat = new ChatOpenAI({ model: "local-model", apiKey, configuration: { baseURL }, useResponsesApi, maxTokens: 50, timeout, maxRetries: 0 });
  await run(`langchain.invoke ${mode}`, async () => {
    const message = await chat.invoke(prompt(`langchain.invoke ${mode}`, useResponsesApi ? 8 : 9));
    return { text: message.text, inputTokens: message.usage_metadata?.input_tokens, outputTokens: message.usage_metadata?.output_tokens };
  });
  await run(`langchain.stream ${mode}`, async () => {
    let text = "";
    let usage;
    for await (const chunk of await chat.stream(prompt(`langchain.stream ${mode}`, useResponsesApi ? 10 : 11))) {
      text += chunk.text;
      usage = chunk.usage_metadata ?? usage;
    }
    return { text, inputTokens: usage?.input_tokens, outputTokens: usage?.output_tokens };
  });
}

process.exit(failed ? 1 : 0);
