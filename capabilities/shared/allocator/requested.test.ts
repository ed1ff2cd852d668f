import { formatIP } from "../net/ip";
import { checkFamiliesFit, orderByFamily, parseRequestedIPs } from "./requested";
import { ip, svc } from "./test-helpers";

describe("parseRequestedIPs", () => {
  it("reads the annotation (trimmed, comma-separated) or spec.loadBalancerIP", () => {
    const r = parseRequestedIPs(" 192.0.2.1 , 2001:db8::1 ", undefined);
    expect(r.ok && r.value.map(formatIP)).toEqual(["192.0.2.1", "2001:db8::1"]);
    const s = parseRequestedIPs(undefined, "192.0.2.9");
    expect(s.ok && s.value.map(formatIP)).toEqual(["192.0.2.9"]);
    expect(parseRequestedIPs(undefined, undefined)).toEqual({ ok: true, value: [] });
  });

  it("refuses both sources at once and unparseable addresses", () => {
    const both = parseRequestedIPs("192.0.2.1", "192.0.2.2");
    expect(!both.ok && both.error.message).toBe(
      "service can not have both metallb.io/loadBalancerIPs and svc.Spec.LoadBalancerIP",
    );
    const bad = parseRequestedIPs("192.0.2.1,nope", undefined);
    expect(!bad.ok && bad.error.message).toBe('invalid requested loadbalancer IPs: "nope" is not an IP address');
  });
});

describe("checkFamiliesFit", () => {
  const message = (r: ReturnType<typeof checkFamiliesFit>) => (r.ok ? "ok" : r.error.message);

  it("applies the policy", () => {
    expect(message(checkFamiliesFit([ip("192.0.2.1")], svc("a")))).toBe("ok");
    expect(message(checkFamiliesFit([ip("2001:db8::1")], svc("a")))).toBe(
      'requested loadBalancer IP(s) "2001:db8::1" does not match the ipFamily of the service',
    );
    const dual = svc("a", { ipFamilyPolicy: "RequireDualStack", ipFamilies: [4, 6] });
    expect(message(checkFamiliesFit([ip("192.0.2.1")], dual))).toMatch(/does not match the ipFamily/);
    expect(message(checkFamiliesFit([ip("192.0.2.1"), ip("2001:db8::1")], dual))).toBe("ok");
    const prefer = svc("a", { ipFamilyPolicy: "PreferDualStack" });
    expect(message(checkFamiliesFit([ip("2001:db8::1")], prefer))).toBe("ok");
  });

  it("allows at most two addresses, one per family", () => {
    const prefer = svc("a", { ipFamilyPolicy: "PreferDualStack" });
    expect(message(checkFamiliesFit([ip("192.0.2.1"), ip("192.0.2.2")], prefer))).toBe(
      '"192.0.2.1" and "192.0.2.2" have the same family',
    );
    expect(message(checkFamiliesFit([ip("192.0.2.1"), ip("2001:db8::1"), ip("192.0.2.3")], prefer))).toBe(
      'more than two addresses "192.0.2.1,2001:db8::1,192.0.2.3"',
    );
  });

  it("orders addresses primary family first", () => {
    expect(orderByFamily([ip("192.0.2.1"), ip("2001:db8::1")], 6).map(formatIP)).toEqual(["2001:db8::1", "192.0.2.1"]);
  });
});
