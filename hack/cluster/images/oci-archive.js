#!/usr/bin/env node
/**
 * Writes a one-layer OCI image archive (an OCI image layout in a tar) from a root
 * filesystem directory, without a registry or a container engine:
 *
 *   node oci-archive.js --rootfs DIR --name REF --out FILE.tar
 *        [--entrypoint JSON] [--cmd JSON] [--user U] [--workdir W] [--env K=V]... [--port N]...
 *
 * The layer is a reproducible tar (sorted names, fixed mtime, numeric owners as
 * they are in DIR) so the same files give the same digests. `ctr images import` reads the result;
 * the index carries the full reference in io.containerd.image.name.
 */
"use strict";
const { execFileSync } = require("node:child_process");
const { createHash } = require("node:crypto");
const { mkdtempSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { dirname, join, resolve } = require("node:path");

function parseArgs(argv) {
  const o = { env: [], port: [] };
  for (let i = 0; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, "");
    const value = argv[i + 1];
    if (value === undefined) throw new Error(`--${key} needs a value`);
    if (key === "env" || key === "port") o[key].push(value);
    else o[key] = value;
  }
  for (const k of ["rootfs", "name", "out"]) if (!o[k]) throw new Error(`--${k} is required`);
  return o;
}

function sha256File(path) {
  const h = createHash("sha256");
  h.update(readFileSync(path));
  return h.digest("hex");
}

function main() {
  const o = parseArgs(process.argv.slice(2));
  const work = mkdtempSync(join(tmpdir(), "oci-archive-"));
  try {
    const blobs = join(work, "layout", "blobs", "sha256");
    mkdirSync(blobs, { recursive: true });
    const layerTmp = join(work, "layer.tar");
    execFileSync("tar", [
      "--sort=name",
      "--mtime=@0",
      "--numeric-owner",
      "--format=gnu",
      "-C",
      resolve(o.rootfs),
      "-cf",
      layerTmp,
      ".",
    ]);
    const layerDigest = sha256File(layerTmp);
    const layerSize = statSync(layerTmp).size;
    renameSync(layerTmp, join(blobs, layerDigest));

    const blob = (obj) => {
      const data = Buffer.from(JSON.stringify(obj));
      const digest = createHash("sha256").update(data).digest("hex");
      writeFileSync(join(blobs, digest), data);
      return { digest: `sha256:${digest}`, size: data.length };
    };
    const config = {
      architecture: "amd64",
      os: "linux",
      created: "1970-01-01T00:00:00Z",
      config: {
        ...(o.entrypoint ? { Entrypoint: JSON.parse(o.entrypoint) } : {}),
        ...(o.cmd ? { Cmd: JSON.parse(o.cmd) } : {}),
        ...(o.user ? { User: o.user } : {}),
        ...(o.workdir ? { WorkingDir: o.workdir } : {}),
        Env: o.env.length ? o.env : ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
        ...(o.port.length ? { ExposedPorts: Object.fromEntries(o.port.map((p) => [`${p}/tcp`, {}])) } : {}),
      },
      rootfs: { type: "layers", diff_ids: [`sha256:${layerDigest}`] },
      history: [{ created: "1970-01-01T00:00:00Z", created_by: "hack/cluster/images/oci-archive.js" }],
    };
    const configDesc = blob(config);
    const manifestDesc = blob({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: { mediaType: "application/vnd.oci.image.config.v1+json", ...configDesc },
      layers: [
        { mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha256:${layerDigest}`, size: layerSize },
      ],
    });
    const tag = o.name.slice(o.name.lastIndexOf(":") + 1);
    writeFileSync(join(work, "layout", "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
    writeFileSync(
      join(work, "layout", "index.json"),
      JSON.stringify({
        schemaVersion: 2,
        manifests: [
          {
            mediaType: "application/vnd.oci.image.manifest.v1+json",
            ...manifestDesc,
            platform: { architecture: "amd64", os: "linux" },
            annotations: { "io.containerd.image.name": o.name, "org.opencontainers.image.ref.name": tag },
          },
        ],
      }),
    );
    mkdirSync(dirname(resolve(o.out)), { recursive: true });
    const outTmp = `${resolve(o.out)}.tmp`;
    execFileSync("tar", [
      "--sort=name",
      "--mtime=@0",
      "--owner=0",
      "--group=0",
      "-C",
      join(work, "layout"),
      "-cf",
      outTmp,
      ".",
    ]);
    renameSync(outTmp, resolve(o.out));
    process.stdout.write(`${o.name} ${manifestDesc.digest}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main();
