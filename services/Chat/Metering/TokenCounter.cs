using System.Text.Json;
using Microsoft.Extensions.AI;
using Microsoft.ML.Tokenizers;

namespace Gateway.Chat.Metering;

// Counts tokens the way OpenAI's models do (o200k), for the reservation before a call and for the bill
// when the provider reports no usage. The vocabulary ships inside the package; nothing is downloaded.
public sealed class TokenCounter
{
    private readonly Tokenizer _tokenizer = TiktokenTokenizer.CreateForEncoding("o200k_base");

    public int Count(string text) => text.Length == 0 ? 0 : _tokenizer.CountTokens(text);

    // OpenAI's accounting for a chat prompt: 3 tokens a message, its role and content (text, tool calls and their
    // results), 3 to prime the reply. One pass, no delegate per message: it runs on every request's hold.
    public int CountPrompt(IEnumerable<ChatMessage> messages)
    {
        var tokens = 3;
        foreach (var message in messages)
        {
            tokens += 3 + Count(message.Role.Value) + Count(message.Text);
            for (var i = 0; i < message.Contents.Count; i++)
            {
                tokens += message.Contents[i] switch
                {
                    FunctionCallContent call => Count(call.Name) + Count(JsonSerializer.Serialize(call.Arguments)),
                    // A result the provider gets as text (one kept in a session's history) is counted as that text, not escaped.
                    FunctionResultContent result => Count(result.Result as string ?? JsonSerializer.Serialize(result.Result)),
                    _ => 0,
                };
            }
        }
        return tokens;
    }
}
