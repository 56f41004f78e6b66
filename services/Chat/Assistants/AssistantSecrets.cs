using System.Security.Cryptography;
using System.Text;
using Gateway.ServiceDefaults;
using Microsoft.Extensions.Options;

namespace Gateway.Chat.Assistants;

// The secret of one start of one assistant, derived (HKDF-SHA256) from the key Chat already holds and the start's id:
// nothing stores it, a new start has a new one, and any Chat instance can compute it again after a restart.
public sealed class AssistantSecrets(IOptions<CallerTokenOptions> key)
{
    public string For(Guid userId, Guid startId) =>
        Convert.ToBase64String(HKDF.DeriveKey(HashAlgorithmName.SHA256, Encoding.UTF8.GetBytes(key.Value.Key), 32,
            startId.ToByteArray(), Encoding.UTF8.GetBytes($"gateway assistant tools {userId:N}")));

    public AssistantLaunch Launch(Assistant assistant) => new(assistant.UserId, For(assistant.UserId, assistant.StartId));
}
