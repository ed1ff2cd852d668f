/**
 * The net under every Validate callback: a throw becomes an answer that says what could
 * not be checked (never Pepr's "Action failed with error: {}"), admitting Services (their
 * webhook fails open; the reconciler checks again) and refusing metallb.io changes.
 */
import type { PeprValidateRequest } from "pepr";
import { describeError, guardValidate } from "./admission-guard";

type Answer = { allowed: boolean; message?: string; code?: number; warnings?: string[] };
const request = (operation: string, raw: object, old?: object) =>
  ({
    Request: { operation },
    Raw: raw,
    OldResource: old,
    Approve: (warnings?: string[]): Answer => ({ allowed: true, warnings }),
    Deny: (message: string, code?: number): Answer => ({ allowed: false, message, code }),
  }) as unknown as PeprValidateRequest<never>;
const service = { group: "", kind: "Service" };
const pool = { group: "metallb.io", kind: "IPAddressPool" };
const throwing = (err: unknown) =>
  async function admitThing() {
    throw err;
  };

describe("admission guard", () => {
  it("admits a Service whose check threw, with a warning naming the cause", async () => {
    const guarded = guardValidate(service, throwing(new Error("GET ipaddresspools: connect ECONNREFUSED")));
    const a = (await guarded(request("CREATE", { metadata: { name: "web", namespace: "shop" } }))) as Answer;
    expect(a.allowed).toBe(true);
    expect(a.warnings!.join()).toMatch(
      /could not check Service "shop\/web" \(GET ipaddresspools: connect ECONNREFUSED\)/,
    );
    expect(a.warnings!.join()).toMatch(/Event/);
  });

  it("refuses a metallb.io change whose check threw, saying what failed, that nothing changed and what to do", async () => {
    const guarded = guardValidate(pool, throwing(new TypeError("Cannot read properties of undefined (reading 'x')")));
    const a = (await guarded(request("CREATE", { metadata: { name: "p", namespace: "metallb-system" } }))) as Answer;
    expect(a).toEqual({
      allowed: false,
      code: 500,
      message: expect.stringContaining(
        `IPAddressPool "metallb-system/p": metallb-pepr could not check this change (Cannot read properties of undefined (reading 'x')); nothing was changed. Retry`,
      ),
    });
    expect(a.message).not.toContain("{}");
  });

  it("names the deleted object on DELETE (there is no new object)", async () => {
    const guarded = guardValidate(pool, throwing(new Error("boom")));
    const a = (await guarded(
      request("DELETE", {}, { metadata: { name: "old", namespace: "metallb-system" } }),
    )) as Answer;
    expect(a.message).toMatch(/^IPAddressPool "metallb-system\/old"/);
  });

  it("passes answers through and keeps the callback's name for Pepr's logs", async () => {
    const ok = async function admitService() {
      return { allowed: true };
    };
    const guarded = guardValidate(service, ok);
    expect(guarded.name).toBe("admitService");
    expect(await guarded(request("CREATE", {}))).toEqual({ allowed: true });
  });

  it("describes what is thrown in practice", () => {
    expect(describeError(new Error("x"))).toBe("x");
    expect(describeError("plain")).toBe("plain");
    expect(
      describeError({ status: 403, statusText: "Forbidden", data: { message: "ipaddresspools is forbidden" } }),
    ).toBe("403 Forbidden ipaddresspools is forbidden");
    expect(describeError({ code: "E" })).toBe('{"code":"E"}');
    expect(describeError({})).toBe("unknown error ([object Object])");
    expect(describeError(undefined)).toBe("unknown error (undefined)");
  });
});
