/**
 * A typed client for the Event Manager API: openapi-fetch over the types that openapi-typescript
 * generates from docs/openapi.json (`src/schema.d.ts`; `make openapi` regenerates both).
 *
 * Every call takes a path of the document and is checked against it: its path parameters, query,
 * body, and the `data` (2xx) or `error` (anything else) of the answer.
 */
import createClient, { type Client, type ClientOptions } from "openapi-fetch";

import type { components, paths } from "./schema.js";

export type { components, paths } from "./schema.js";

/** The API's schemas by name, e.g. `Schemas["Invitation"]`. */
export type Schemas = components["schemas"];

/** A client of the whole API. */
export type EventManagerClient = Client<paths>;

/** Where the API is, and optionally whose calls these are. */
export interface EventManagerClientOptions extends Omit<ClientOptions, "baseUrl"> {
  /** The server's origin, e.g. `http://127.0.0.1:8080`: the document's paths start at `/api/v1`. */
  baseUrl: string;
  /** A `token` from register or login, sent as `Authorization: Bearer …` with every call. */
  token?: string;
}

/** A client for `baseUrl`, authenticated with `token` when given. */
export function createEventManagerClient(options: EventManagerClientOptions): EventManagerClient {
  const { baseUrl, token, ...rest } = options;
  const client = createClient<paths>({ ...rest, baseUrl: baseUrl.replace(/\/+$/, "") });
  if (token !== undefined) {
    client.use({
      onRequest({ request }) {
        request.headers.set("Authorization", `Bearer ${token}`);
        return request;
      },
    });
  }
  return client;
}
