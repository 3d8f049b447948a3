/**
 * Next does not cap route-handler bodies, and tRPC's fetch adapter has no `maxBodySize` (its
 * Node adapter has). This reads at most `maxBytes` of a request body and answers 413 beyond,
 * whether or not the client sent a content-length.
 */
export async function limitBody(
  req: Request,
  maxBytes: number,
): Promise<Request | Response> {
  const tooLarge = () =>
    Response.json(
      { error: { message: `Request body over ${maxBytes} bytes` } },
      { status: 413 },
    );
  if (Number(req.headers.get("content-length") ?? 0) > maxBytes)
    return tooLarge();
  if (!req.body) return req;

  const chunks: Uint8Array[] = [];
  let size = 0;
  // Node's own types leave the chunk type open; a request body is bytes.
  const reader = (req.body as ReadableStream<Uint8Array>).getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > maxBytes) {
      await reader.cancel();
      return tooLarge();
    }
    chunks.push(value);
  }
  return new Request(req, { body: Buffer.concat(chunks) });
}
