import { checkServiceCommunities, parseServiceCommunities } from "./service-communities";
import type { CommunityAliasModel } from "./types";

const aliases: CommunityAliasModel[] = [
  { name: "tenant-a", value: { type: "standard", standard: { asn: 64500, value: 10 } } },
  { name: "tenant-a-large", value: { type: "large", large: { global: 64500, local1: 1, local2: 10 } } },
];

describe("parseServiceCommunities", () => {
  it("reads values and aliases, comma separated, blanks ignored, duplicates once", () => {
    const p = parseServiceCommunities(" tenant-a, 64500:10 ,,large:1:2:3, tenant-a-large ", aliases);
    expect(p.standard).toEqual([{ asn: 64500, value: 10 }]);
    expect(p.large).toEqual([
      { global: 1, local1: 2, local2: 3 },
      { global: 64500, local1: 1, local2: 10 },
    ]);
    expect(p.errors).toEqual([]);
    expect(p.unknownAliases).toEqual([]);
  });

  it("no annotation, no communities", () => {
    expect(parseServiceCommunities(undefined, aliases)).toMatchObject({ standard: [], large: [], errors: [] });
  });

  it("tells a malformed value from an alias name no Community defines", () => {
    const p = parseServiceCommunities("65536:1,large:1:2,tenant-b,no-export", aliases);
    expect(p.errors).toEqual([
      'invalid community value: invalid section "65536" of community "65536:1": must be a number from 0 to 65535',
    ]);
    // Three parts is no community shape: read as a (strange) alias name, as advertisements do.
    expect(p.unknownAliases).toEqual(["large:1:2", "tenant-b", "no-export"]);
  });

  it("refuses more than 63 entries", () => {
    const many = Array.from({ length: 64 }, (_, i) => `64500:${i}`).join(",");
    const p = parseServiceCommunities(many, []);
    expect(p.errors).toEqual(["64 communities; list at most 63"]);
    expect(p.standard).toHaveLength(63);
  });
});

describe("checkServiceCommunities (admission)", () => {
  it("refuses a malformed entry with the fix", () => {
    expect(checkServiceCommunities("1:2:3:4", aliases, true).errors).toEqual([
      'annotation metallb.io/bgp-communities: invalid community value: invalid marker for large community, expected community to be of format large:<uint32>:<uint32>:<uint32> but got "1:2:3:4" instead; list values (AA:NN or large:A:B:C) or Community alias names separated by commas',
    ]);
  });

  it("warns about an unknown alias and about no advertisement carrying Service communities", () => {
    expect(checkServiceCommunities("tenant-b", aliases, false)).toEqual({
      errors: [],
      warnings: [
        'annotation metallb.io/bgp-communities: unknown community alias "tenant-b"; it is left off this Service\'s routes until a Community object defines it',
        'annotation metallb.io/bgp-communities: no BGPAdvertisement carries Service communities; they are added only by advertisements annotated metallb.io/service-communities: "true"',
      ],
    });
  });

  it("says nothing about a good annotation an advertisement carries", () => {
    expect(checkServiceCommunities("tenant-a,64500:1", aliases, true)).toEqual({ errors: [], warnings: [] });
  });

  it("without the configuration judges the syntax only", () => {
    expect(checkServiceCommunities("tenant-b,70000:1", undefined, undefined)).toEqual({
      errors: [
        'annotation metallb.io/bgp-communities: invalid community value: invalid section "70000" of community "70000:1": must be a number from 0 to 65535; list values (AA:NN or large:A:B:C) or Community alias names separated by commas',
      ],
      warnings: [],
    });
  });
});
