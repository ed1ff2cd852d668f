/**
 * Where one of the agent's HTTP endpoints listens, from METALLB_<NAME>_PORT and
 * METALLB_<NAME>_ADDRESS: one reading and one set of messages for every endpoint.
 */
import { isIP } from "node:net";

export interface ListenOn {
  /** TCP port; 0 disables the endpoint. */
  port: number;
  /** Listen address; "" = every interface. */
  address: string;
}

/** Throws with the variable's name and what it must be when either is malformed. */
export function readListenOn(env: NodeJS.ProcessEnv, name: "HEALTH" | "METRICS", defaultPort: number): ListenOn {
  const portVar = `METALLB_${name}_PORT`;
  const addressVar = `METALLB_${name}_ADDRESS`;
  const raw = env[portVar] ?? "";
  const port = raw === "" ? defaultPort : Number(raw);
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`${portVar} must be a port number (0 disables), got ${JSON.stringify(raw)}`);
  const address = (env[addressVar] ?? "").trim();
  if (address !== "" && isIP(address) === 0)
    throw new Error(`${addressVar} must be an IP address (or empty for all), got ${JSON.stringify(address)}`);
  return { port, address };
}
