// Reads an answer body up to a byte cap, for every outbound HTTP call (Graph, webhooks, feeds): a
// server must not make us hold an unbounded body in memory.

/** A body as undici's request() or fetch() gives it: both iterate as byte chunks. */
export type ByteStream = AsyncIterable<Uint8Array>;

/**
 * The body as UTF-8 text, at most `limit` bytes of it; `cut` when there was more. Past the cap the
 * rest is not read: leaving the loop cancels the stream (that socket is not reused).
 */
export async function readCapped(
  body: ByteStream | null | undefined,
  limit: number,
): Promise<{ text: string; cut: boolean }> {
  if (!body) return { text: '', cut: false };
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of body) {
    chunks.push(chunk);
    size += chunk.byteLength;
    if (size > limit) {
      return { text: Buffer.concat(chunks).subarray(0, limit).toString('utf8'), cut: true };
    }
  }
  return { text: Buffer.concat(chunks).toString('utf8'), cut: false };
}
