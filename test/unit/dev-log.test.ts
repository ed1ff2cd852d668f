/** hack/dev-log.js: what `npm start` shows of pepr dev's output. */
import { spawnSync } from "node:child_process";
import { join } from "node:path";

const filter = join(__dirname, "..", "..", "hack", "dev-log.js");
const run = (input: string): string[] =>
  spawnSync(process.execPath, [filter], { input, encoding: "utf8" }).stdout.trimEnd().split("\n");

// Shaped as pepr dev 1.1.4 prints it (pino pretty, colours included), shortened.
const esc = "\x1b";
const peprDev = [
  "File /x/capabilities/a.ts is not formatted correctly",
  "File /x/capabilities/b.ts is not formatted correctly",
  "Formatting errors were found. The build will continue, but you may want to run `npx pepr format` to address any issues.",
  "",
  "  dist/pepr-metallb-pepr.js                           397.9kb  100.0%",
  "   ├ crds/generated/crds.json                         125.4kb   31.5%",
  "   └ capabilities/announcer/runtime.ts                  136b     0.0%",
  "",
  `[19:03:58.646] ${esc}[32mINFO${esc}[39m (14082): Validate Action configured for DELETE`,
  '    prefix: "allocator: IPAddressPool"',
  `[19:03:59.100] ${esc}[32mINFO${esc}[39m (14082): ${esc}[36mconfiguration loaded${esc}[39m`,
  '    component: "config-store"',
  `[19:04:00.197] ${esc}[31mERROR${esc}[39m (14082): BGP reconcile failed; retrying`,
  '    component: "bgp-planner"',
  "    err: {",
  '      "type": "KubeHttpError",',
  '      "message": "GET /apis/x: HTTP 429: storage is (re)initializing\\n",',
  '      "stack":',
  "          Error: GET /apis/x",
  "    }",
  `[19:04:00.200] ${esc}[32mINFO${esc}[39m (14082): metallb-pepr controller ready`,
  `[19:05:29.717] ${esc}[32mINFO${esc}[39m (/well-known/14082): Incoming request`,
  '    uid: "10e65b6d"',
  "    gvk: {",
  '      "kind": "Community"',
  "    }",
  `[19:05:29.699] ${esc}[33mWARN${esc}[39m (14082): configuration object disabled`,
  '    component: "config-store"',
  '    object: "BGPAdvertisement/ipv4-routes"',
  "    errors: [",
  '      "BGPAdvertisement \\"ipv4-routes\\": spec.communities[1]: unknown community alias"',
  "    ]",
].join("\n");

describe("hack/dev-log.js", () => {
  it("keeps one line per module record, warning and error, and drops Pepr's chatter", () => {
    expect(run(peprDev)).toEqual([
      "pepr: 2 file(s) not formatted: npx prettier --write /x/capabilities/a.ts /x/capabilities/b.ts",
      "19:03:59 config-store: configuration loaded",
      "19:04:00 ERROR bgp-planner: BGP reconcile failed; retrying: GET /apis/x: HTTP 429: storage is (re)initializing",
      "19:04:00 module: metallb-pepr controller ready",
      '19:05:29 WARN config-store: configuration object disabled (BGPAdvertisement/ipv4-routes): BGPAdvertisement "ipv4-routes": spec.communities[1]: unknown community alias',
    ]);
  });

  it("passes through what it does not recognise", () => {
    expect(run("Error deploying module: connect ECONNREFUSED\n")).toEqual([
      "Error deploying module: connect ECONNREFUSED",
    ]);
  });
});
