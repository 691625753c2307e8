/**
 * The seed's scenario through the typed client, against a running server with a fresh database:
 * Olivia registers and creates an event, Sara registers with the mobile 09352864812, Olivia sends
 * the seed's array (one invitation to Sara, three numbers nobody has), lists what she sent, and
 * Sara accepts. Every answer's status and fields are checked; the first mismatch ends the run
 * with exit code 1.
 *
 * Where contacts must be proven (CONTACT_VERIFICATION=required, the default), Sara proves her
 * mobile first with the code the server texted her; against a development server (`make run`)
 * that text is a file in its outbox, which OUTBOX_DIR names:
 *
 *   BASE_URL=http://127.0.0.1:8080 OUTBOX_DIR=../../data/outbox npx tsx examples/seed.ts
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { createEventManagerClient, type Schemas } from "../src/client.js";

const baseUrl = process.env["BASE_URL"] ?? "http://127.0.0.1:8080";

/** The seed's `invitations`, blanks and spacing as given. */
const SEED_INVITATIONS = ["", "09352864812", "", "09303030300", "09332114546", "09332131456", "", ""];

class Mismatch extends Error {}

function expectEqual<T>(actual: T, expected: T, what: string): void {
  if (actual !== expected) {
    throw new Mismatch(`${what}: expected ${JSON.stringify(expected)}, got ${JSON.stringify(actual)}`);
  }
}

/** The answer's body when it has the expected status; a mismatch otherwise. */
function expectStatus<T>(
  step: string,
  result: { data?: T; error?: unknown; response: Response },
  status: number,
): T {
  if (result.response.status !== status || result.data === undefined) {
    const body = result.error ?? result.data;
    throw new Mismatch(
      `${step}: expected ${status}, got ${result.response.status}: ${JSON.stringify(body)}`,
    );
  }
  console.log(`ok  ${step}: ${status}`);
  return result.data;
}

/** The newest code texted to `mobile`, from the development outbox's `sms/` files. */
async function textedCode(outbox: string, mobile: string): Promise<string> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    const dir = join(outbox, "sms");
    let names: string[] = [];
    try {
      names = readdirSync(dir).filter((name) => !name.startsWith(".")).sort().reverse();
    } catch {
      // Not written yet.
    }
    for (const name of names) {
      const text = readFileSync(join(dir, name), "utf8");
      const code = /code: (\d{6})/.exec(text)?.[1];
      if (text.includes(mobile) && code !== undefined) return code;
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Mismatch(`no code texted to ${mobile} in ${outbox}/sms within 10 s`);
}

async function main(): Promise<void> {
  const guest = createEventManagerClient({ baseUrl });
  const password = "correct horse battery";

  const olivia = expectStatus(
    "register Olivia",
    await guest.POST("/api/v1/register", {
      body: { name: "Olivia", email: "olivia@example.com", password },
    }),
    201,
  ).data;
  expectEqual(olivia.user.name, "Olivia", "Olivia's name");
  expectEqual(olivia.user.email, "olivia@example.com", "Olivia's email");
  expectEqual(olivia.token_type, "Bearer", "token type");

  const sara = expectStatus(
    "register Sara",
    await guest.POST("/api/v1/register", {
      body: { name: "Sara", mobile: "09352864812", password },
    }),
    201,
  ).data;
  expectEqual(sara.user.mobile, "+989352864812", "Sara's mobile, normalized");

  const asOlivia = createEventManagerClient({ baseUrl, token: olivia.token });
  const asSara = createEventManagerClient({ baseUrl, token: sara.token });

  if (sara.user.mobile_verified_at === null) {
    const outbox = process.env["OUTBOX_DIR"];
    if (outbox === undefined) {
      throw new Mismatch(
        "the server asks Sara to prove her mobile: set OUTBOX_DIR to its outbox (development) " +
          "or run it with CONTACT_VERIFICATION=off",
      );
    }
    const proven = expectStatus(
      "Sara proves her mobile",
      await asSara.POST("/api/v1/me/verifications/confirm", {
        body: { channel: "mobile", code: await textedCode(outbox, "+989352864812") },
      }),
      200,
    ).data;
    expectEqual(proven.mobile_verified_at !== null, true, "Sara's mobile proven");
  }

  const event = expectStatus(
    "create an event",
    await asOlivia.POST("/api/v1/events", {
      body: { title: "Launch party", location: "Tehran" },
    }),
    201,
  ).data;
  expectEqual(event.title, "Launch party", "event title");
  expectEqual(event.owner.id, olivia.user.id, "event owner");
  expectEqual(event.members_count, 1, "members at creation");

  const sent = expectStatus(
    "send the seed's invitations",
    await asOlivia.POST("/api/v1/{event_id}/send-invitations", {
      params: { path: { event_id: event.id } },
      body: { invitations: SEED_INVITATIONS },
    }),
    200,
  );
  expectEqual(sent.message, "1 invitation sent, 3 ignored.", "send message");
  expectEqual(sent.data.sent.length, 1, "invitations sent");
  const invitation: Schemas["Invitation"] | undefined = sent.data.sent[0];
  if (invitation === undefined) throw new Mismatch("no invitation in `sent`");
  expectEqual(invitation.contact, "09352864812", "sent contact");
  expectEqual(invitation.invitee.id, sara.user.id, "invitee");
  expectEqual(invitation.status, "pending", "status when sent");
  const ignored = sent.data.ignored.map((entry) => `${entry.contact}:${entry.reason}`);
  expectEqual(
    ignored.join(" "),
    "09303030300:not_a_user 09332114546:not_a_user 09332131456:not_a_user",
    "ignored entries",
  );

  const listed = expectStatus(
    "list sended-invitations",
    await asOlivia.GET("/api/v1/sended-invitations", {
      params: { query: { event_id: event.id } },
    }),
    200,
  );
  expectEqual(listed.data.length, 1, "sent invitations listed");
  expectEqual(listed.data[0]?.id, invitation.id, "listed invitation");
  expectEqual(listed.data[0]?.status, "pending", "listed status");
  expectEqual(listed.meta.next_cursor, null, "no further page");

  const answered = expectStatus(
    "Sara accepts",
    await asSara.PATCH("/api/v1/invitations/{invitation_id}", {
      params: { path: { invitation_id: invitation.id } },
      body: { status: "accepted" },
    }),
    200,
  ).data;
  expectEqual(answered.id, invitation.id, "answered invitation");
  expectEqual(answered.status, "accepted", "status after accepting");
  expectEqual(answered.answered_at === null, false, "answered_at set");

  const joined = expectStatus(
    "Sara sees the event",
    await asSara.GET("/api/v1/events/{event_id}", {
      params: { path: { event_id: event.id } },
    }),
    200,
  ).data;
  expectEqual(joined.members_count, 2, "members after accepting");
}

try {
  await main();
  console.log("seed: every step as expected");
} catch (error) {
  const cause = error instanceof Error && error.cause !== undefined ? ` (${String(error.cause)})` : "";
  console.error(`seed: FAILED: ${error instanceof Mismatch ? error.message : String(error)}${cause}`);
  process.exitCode = 1;
}
