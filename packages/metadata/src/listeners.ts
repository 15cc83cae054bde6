/**
 * Kafka's listeners: a node binds one or more named listeners (`listeners`) and tells clients
 * one address per listener (`advertised.listeners`), in Kafka's `NAME://HOST:PORT,...` form. A
 * broker registers all of its advertised listeners; a Metadata request is answered with each
 * broker's address on the listener the request arrived on, so a client inside a container network
 * (INTERNAL://broker-1:19092) and one on the host (EXTERNAL://localhost:9092) each get addresses
 * they can reach. The registration's plain host:port stays the inter-broker listener's address
 * (replication uses it), so a registration without listeners means "that address for everyone".
 */

export interface Endpoint {
  /** Upper case, [A-Z0-9_]; PLAINTEXT when the HOST:PORT form has no name. */
  readonly name: string;
  readonly host: string;
  readonly port: number;
}

export const DEFAULT_LISTENER_NAME = 'PLAINTEXT';
const NAME = /^[A-Z][A-Z0-9_]*$/;

/**
 * Parses `NAME://HOST:PORT,NAME2://HOST:PORT` (a bare `HOST:PORT` is named PLAINTEXT; `[::1]:9092`
 * for IPv6). Throws an Error whose message says what is wrong; names must be unique.
 */
export function parseEndpoints(value: string, { allowPortZero = false } = {}): Endpoint[] {
  const items = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (items.length === 0) throw new Error('names no listener');
  const out: Endpoint[] = [];
  for (const item of items) {
    const sep = item.indexOf('://');
    const name = sep < 0 ? DEFAULT_LISTENER_NAME : item.slice(0, sep).toUpperCase();
    if (!NAME.test(name)) throw new Error(`listener name '${item.slice(0, sep)}' must be letters, digits and '_', starting with a letter`);
    const address = sep < 0 ? item : item.slice(sep + 3);
    const match = /^(.*):(\d+)$/.exec(address);
    if (!match || !match[1]) throw new Error(`'${item}' is not NAME://HOST:PORT`);
    const port = Number(match[2]);
    if (port > 65535 || (port === 0 && !allowPortZero)) throw new Error(`'${item}' has port ${port}, not ${allowPortZero ? 0 : 1}-65535`);
    if (out.some((e) => e.name === name)) throw new Error(`listener ${name} appears more than once`);
    out.push({ name, host: match[1].replace(/^\[(.*)\]$/, '$1'), port });
  }
  return out;
}

/** The inverse of parseEndpoints (IPv6 hosts bracketed). */
export function formatEndpoints(endpoints: readonly Endpoint[]): string {
  return endpoints.map((e) => `${e.name}://${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`).join(',');
}

/**
 * The address to give a client that came in on `listener`: the broker's endpoint of that name;
 * the registration's host:port when it registered no listeners (one address for everyone);
 * undefined when it registered listeners but not this one (Kafka leaves such a broker out).
 */
export function endpointFor(
  broker: { readonly host: string; readonly port: number; readonly endpoints?: string },
  listener: string | undefined,
): { host: string; port: number } | undefined {
  if (broker.endpoints === undefined || broker.endpoints === '' || listener === undefined) return { host: broker.host, port: broker.port };
  let endpoints: Endpoint[];
  try {
    endpoints = parseEndpoints(broker.endpoints);
  } catch {
    return { host: broker.host, port: broker.port };
  }
  const e = endpoints.find((x) => x.name === listener);
  return e === undefined ? undefined : { host: e.host, port: e.port };
}
