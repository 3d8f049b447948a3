import type { IncomingMessage } from "node:http";

/** Node's headers as a fetch `Headers` (repeated headers appended, HTTP/2 pseudo-headers not). */
export function toHeaders(incoming: IncomingMessage["headers"]): Headers {
  const headers = new Headers();
  for (const name in incoming) {
    const value = incoming[name];
    if (value === undefined || name.startsWith(":")) continue;
    if (Array.isArray(value))
      for (const item of value) headers.append(name, item);
    else headers.append(name, value);
  }
  return headers;
}
