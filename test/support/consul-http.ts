// One plain HTTP call to a Consul emulator, for tests that set Consul up or look at it directly
// (not through the product's client): the status and the decoded JSON body, if any.
export async function consulCall(
  url: string,
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${url}${path}`, {
    method,
    ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? (JSON.parse(text) as unknown) : undefined };
}
