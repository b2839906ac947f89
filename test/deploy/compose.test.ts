// The Docker deployment as files: both compose files, the Dockerfile and .dockerignore, checked without a Docker engine.
import { describe, expect, test } from "bun:test";
import { join } from "node:path";
import pkg from "../../package.json" with { type: "json" };
import { parseConfig } from "../../src/config/parse.ts";
import { NODE_PROCESS_ENV } from "../../src/config/process-env.ts";
import { SETTINGS } from "../../src/config/settings.ts";
import { freePort } from "../support/free-port.ts";
import { startNode } from "../support/node-process.ts";
import { tempDir } from "../support/temp-dir.ts";
import { ciBunVersion, envOf, finalStage, interpolate, readCompose, readDockerfile, REPO_ROOT, type ComposeFile, type ComposeService, type Instruction } from "./deploy-files.ts";

const NODE_NAMES = ["node1", "node2", "node3", "node4"];
const CONTAINER_PORT = "8484";
const SETTING_NAMES = new Set<string>(Object.values(SETTINGS).map((s) => s.env));
const COMPOSE_FILES = ["docker-compose.yml", "docker-compose.dev.yml"] as const;
/** Bounds the run of a healthcheck command; the command itself gives up after 3 s. */
const HEALTHCHECK_RUN_TIMEOUT_MS = 10_000;

const dockerfile = await readDockerfile();
const composes = new Map<string, ComposeFile>(await Promise.all(COMPOSE_FILES.map(async (file) => [file, await readCompose(file)] as const)));

function compose(file: string): ComposeFile {
  const found = composes.get(file);
  if (found === undefined) throw new Error(`${file} was not read`);
  return found;
}

function service(file: string, name: string): ComposeService {
  const found = compose(file).services.find((s) => s.name === name);
  if (found === undefined) throw new Error(`${file} has no service ${name}`);
  return found;
}

function urlOf(name: string): string {
  return `http://${name}:${CONTAINER_PORT}`;
}

/** The JSON array of an exec-form CMD or HEALTHCHECK ... CMD. */
function execForm(args: string): string[] {
  const parsed: unknown = JSON.parse(args.slice(args.indexOf("[")));
  if (!Array.isArray(parsed)) throw new Error(`not an exec form: ${args}`);
  return parsed.map(String);
}

function instruction(keyword: string, stage: readonly Instruction[] = dockerfile): Instruction {
  const found = stage.findLast((i) => i.keyword === keyword);
  if (found === undefined) throw new Error(`the Dockerfile has no ${keyword}`);
  return found;
}

const CASES = COMPOSE_FILES.flatMap((file) => NODE_NAMES.map((name) => [file, name] as const));

describe.each(COMPOSE_FILES)("%s", (file) => {
  test("defines exactly the services node1 to node4", () => {
    expect(compose(file).services.map((s) => s.name).sort()).toEqual(NODE_NAMES);
  });

  test("builds every node from the Dockerfile or names its image, restarts it unless stopped, and checks /api/v1/health", () => {
    for (const s of compose(file).services) {
      expect(s.build !== undefined || s.image !== undefined).toBe(true);
      expect(s.restart).toBe("unless-stopped");
      expect(s.healthcheck?.join(" ")).toContain(`127.0.0.1:${CONTAINER_PORT}/api/v1/health`);
    }
  });

  test("publishes node1 on host port 8484 and no two nodes on the same host port", () => {
    expect(service(file, "node1").ports).toContainEqual({ host: "8484", container: CONTAINER_PORT });
    const hostPorts = compose(file).services.flatMap((s) => s.ports.map((p) => p.host));
    expect(new Set(hostPorts).size).toBe(hostPorts.length);
  });

  test("gives every node the same CLUSTER_SECRET, and not an empty one", () => {
    const secrets = compose(file).services.map((s) => s.rawEnvironment.CLUSTER_SECRET);
    expect(new Set(secrets).size).toBe(1);
    expect(secrets[0]).toMatch(/^\$\{CLUSTER_SECRET:-.+\}$/);
  });

  test("uses only environment variables that are LimeDB settings", () => {
    for (const s of compose(file).services) {
      for (const name of Object.keys(s.rawEnvironment)) expect({ service: s.name, name, known: SETTING_NAMES.has(name) }).toEqual({ service: s.name, name, known: true });
    }
  });

  test("gives every node a data volume of its own", () => {
    const sources = compose(file).services.map((s) => s.volumes.find((v) => v.target === s.environment.DATA_DIR)?.source);
    expect(new Set(sources).size).toBe(NODE_NAMES.length);
  });
});

describe.each(CASES)("%s %s", (file, name) => {
  test("announces itself as http://<service>:8484 and listens on 8484", () => {
    const { environment } = service(file, name);
    expect(environment.NODE_URL).toBe(urlOf(name));
    expect(environment.SERVER_PORT).toBe(CONTAINER_PORT);
    expect(service(file, name).ports.every((p) => p.container === CONTAINER_PORT)).toBe(true);
  });

  test("seeds from the other three nodes and not from itself", () => {
    const peers = (service(file, name).environment.NODE_PEERS ?? "").split(",").map((p) => p.trim());
    expect(peers.sort()).toEqual(NODE_NAMES.filter((other) => other !== name).map(urlOf));
  });

  test("keeps its data in a volume mounted at DATA_DIR", () => {
    const s = service(file, name);
    expect(s.environment.DATA_DIR).toBe("/data");
    const volume = s.volumes.find((v) => v.target === s.environment.DATA_DIR);
    expect(volume).toBeDefined();
    if (file === "docker-compose.yml") expect(compose(file).volumes).toContain(volume?.source ?? "");
    else expect(volume?.source).toBe(`./data/${name}`);
  });

  test("starts with a valid configuration, as the container reads it (image ENV, then compose environment)", () => {
    const s = service(file, name);
    const command = s.command ?? execForm(instruction("CMD").args);
    const argv = command.slice(command.indexOf("src/main.ts") + 1);
    const parsed = parseConfig(argv, { ...envOf(finalStage(dockerfile)), ...s.environment });
    if (!parsed.ok) throw new Error(`${file} ${name}: ${"error" in parsed ? parsed.error.message : "asks for --help"}`);
    expect(parsed.config).toMatchObject({ serverHost: "0.0.0.0", serverPort: 8484, nodeUrl: urlOf(name), dataDir: "/data" });
    expect(parsed.config.nodePeers.length).toBe(3);
    expect(parsed.config.clusterSecret).not.toBe("");
    // The secure defaults: only the node's own name, loopback and the members are trusted.
    expect(parsed.config).toMatchObject({ allowedHosts: [], corsOrigins: [], maxClockSkewMs: 500 });
  });

  test("passes ALLOWED_HOSTS, CORS_ORIGINS and MAX_CLOCK_SKEW_MS from the shell through to the node", () => {
    const s = service(file, name);
    const shell = { ALLOWED_HOSTS: "db.example.com", CORS_ORIGINS: "https://app.example.com", MAX_CLOCK_SKEW_MS: "2000" };
    const environment = Object.fromEntries(Object.entries(s.rawEnvironment).map(([k, v]) => [k, interpolate(v, shell)]));
    const parsed = parseConfig([], { ...envOf(finalStage(dockerfile)), ...environment });
    if (!parsed.ok) throw new Error(`${file} ${name}: ${"error" in parsed ? parsed.error.message : "asks for --help"}`);
    expect(parsed.config).toMatchObject({ allowedHosts: ["db.example.com"], corsOrigins: ["https://app.example.com"], maxClockSkewMs: 2000 });
  });
});

describe("docker-compose.yml", () => {
  test("declares every node's named volume at the top level and bind-mounts nothing", () => {
    const { services, volumes } = compose("docker-compose.yml");
    for (const s of services) for (const v of s.volumes) expect(volumes).toContain(v.source);
  });
});

describe("docker-compose.dev.yml", () => {
  test.each(NODE_NAMES)("%s runs bun --watch src/main.ts on the source bind-mounted from ./src", (name) => {
    const s = service("docker-compose.dev.yml", name);
    expect(s.command?.slice(0, 3)).toEqual(["bun", "--watch", "src/main.ts"]);
    expect(s.volumes).toContainEqual({ source: "./src", target: "/app/src" });
  });
});

describe("the Dockerfile", () => {
  test("builds every stage on the official Bun image pinned to the version CI uses", async () => {
    const version = await ciBunVersion();
    const froms = dockerfile.filter((i) => i.keyword === "FROM").map((i) => i.args.split(/\s+/)[0] ?? "");
    expect(froms.length).toBeGreaterThanOrEqual(2);
    for (const image of froms) expect(image).toMatch(new RegExp(`^oven/bun:${version.replaceAll(".", "\\.")}(-(slim|alpine|debian|distroless))?$`));
    expect(Bun.semver.satisfies(version, pkg.engines.bun)).toBe(true);
  });

  test("installs the locked production dependencies in a stage of their own", () => {
    const install = dockerfile.find((i) => i.keyword === "RUN" && i.args.includes("bun install"));
    expect(install?.args).toContain("--frozen-lockfile");
    expect(install?.args).toContain("--production");
    expect(dockerfile.indexOf(install ?? { keyword: "", args: "" })).toBeLessThan(dockerfile.findLastIndex((i) => i.keyword === "FROM"));
    const copies = finalStage(dockerfile).filter((i) => i.keyword === "COPY").map((i) => i.args);
    expect(copies.some((c) => c.startsWith("--from=") && c.includes("node_modules"))).toBe(true);
    expect(copies.some((c) => c.split(/\s+/).includes("package.json"))).toBe(true);
    expect(copies.some((c) => c.split(/\s+/)[0] === "src")).toBe(true);
  });

  test("runs as a user other than root, with /data owned by that user", () => {
    const user = instruction("USER", finalStage(dockerfile)).args;
    expect(["root", "0", "0:0", "root:root"]).not.toContain(user);
    expect(finalStage(dockerfile).some((i) => i.keyword === "RUN" && i.args.includes(`chown ${user}`) && i.args.includes("/data"))).toBe(true);
  });

  test("sets SERVER_HOST=0.0.0.0, DATA_DIR=/data and the node process environment, only with names of LimeDB settings or of that environment, and exposes 8484", () => {
    const env = envOf(finalStage(dockerfile));
    expect(env).toMatchObject({ SERVER_HOST: "0.0.0.0", DATA_DIR: "/data", ...NODE_PROCESS_ENV });
    for (const name of Object.keys(env)) expect(SETTING_NAMES.has(name) || name in NODE_PROCESS_ENV).toBe(true);
    expect(instruction("EXPOSE").args.split(/\s+/)).toContain(CONTAINER_PORT);
  });

  test("checks health at /api/v1/health and runs bun src/main.ts", () => {
    expect(instruction("HEALTHCHECK").args).toContain("/api/v1/health");
    expect(execForm(instruction("CMD").args)).toEqual(["bun", "src/main.ts"]);
  });

  test("leaves node_modules, data, .git and test output out of the build context", async () => {
    const ignored = (await Bun.file(join(REPO_ROOT, ".dockerignore")).text()).split("\n").map((line) => line.trim());
    for (const entry of ["node_modules", "data", ".git", "test-output"]) expect(ignored).toContain(entry);
  });
});

/** Runs a healthcheck's `bun -e` script with this test's Bun; resolves with its exit code. */
async function runHealthcheck(command: readonly string[], env: Record<string, string>): Promise<number | null> {
  const start = command.indexOf("bun");
  const child = Bun.spawn([process.execPath, ...command.slice(start + 1)], { env: { ...process.env, ...env }, stdout: "ignore", stderr: "ignore" });
  const exited = await Promise.race([child.exited.then(() => true), Bun.sleep(HEALTHCHECK_RUN_TIMEOUT_MS).then(() => false)]);
  if (!exited) child.kill("SIGKILL");
  await child.exited;
  return child.exitCode;
}

describe("the healthcheck commands", () => {
  test("pass against a running node and fail against a closed port", async () => {
    await using dir = await tempDir();
    await using node = await startNode({ dataDir: dir.path, backend: "memory" });
    const closedPort = freePort();
    const imageCheck = execForm(instruction("HEALTHCHECK").args);
    expect(await runHealthcheck(imageCheck, { SERVER_PORT: String(node.port) })).toBe(0);
    expect(await runHealthcheck(imageCheck, { SERVER_PORT: String(closedPort) })).toBe(1);
    for (const file of COMPOSE_FILES) {
      const check = service(file, "node1").healthcheck ?? [];
      const at = (port: number) => check.map((word) => word.replace(`127.0.0.1:${CONTAINER_PORT}`, `127.0.0.1:${port}`));
      expect(await runHealthcheck(at(node.port), {})).toBe(0);
      expect(await runHealthcheck(at(closedPort), {})).toBe(1);
    }
  }, 30_000);
});

describe("the quick start on a machine with only Node and npm", () => {
  test("README's two commands bring the Bun CI pins through npx, and CI runs the README's test command as written", async () => {
    const readme = await Bun.file(join(REPO_ROOT, "README.md")).text();
    const quickStart = readme.slice(readme.indexOf("## Quick start"), readme.indexOf("## HTTP API"));
    const commands = [...quickStart.matchAll(/^(npx --yes bun@(\S+) run (dev|test))\b/gm)];
    expect(commands.map((match) => match[3])).toEqual(["dev", "test"]);
    const version = await ciBunVersion();
    for (const match of commands) expect(match[2]).toBe(version);
    const ci = await Bun.file(join(REPO_ROOT, ".ci", "run")).text();
    const testCommand = commands.find((match) => match[3] === "test")![1]!;
    expect(ci.split("\n").some((line) => line.startsWith(`${testCommand} `) || line === testCommand)).toBe(true);
    // CI installs no Bun of its own: the README's line is what brings it.
    expect(ci).not.toMatch(/npm install -g/);
  });
});

describe("the node process environment", () => {
  test("package.json's dev and start scripts start the node with each variable of NODE_PROCESS_ENV, keeping a value the caller set", () => {
    for (const script of [pkg.scripts.dev, pkg.scripts.start]) {
      const node = script.slice(script.lastIndexOf("&&") + 2).trim();
      for (const [name, value] of Object.entries(NODE_PROCESS_ENV)) expect(node).toStartWith(`${name}=\${${name}:-${value}} bun `);
    }
  });

  test("a node the tests start runs with NODE_PROCESS_ENV, and a value of the caller's own wins", async () => {
    await using dir = await tempDir();
    const [name] = Object.keys(NODE_PROCESS_ENV);
    for (const env of [{}, { [name!]: "1" }]) {
      await using node = await startNode({ dataDir: join(dir.path, String(Object.keys(env).length)), backend: "memory", env });
      const environ = (await Bun.file(`/proc/${node.process.pid}/environ`).text()).split("\0");
      // The caller's own value wins: the options' env, then this test process's environment, then the default.
      expect(environ).toContain(`${name}=${env[name!] ?? process.env[name!] ?? NODE_PROCESS_ENV[name!]}`);
    }
  });

  test("the Bun that runs the nodes knows each MIMALLOC_ variable of NODE_PROCESS_ENV and takes its value (an upgrade that drops one fails here)", () => {
    for (const [name, value] of Object.entries(NODE_PROCESS_ENV)) {
      if (!name.startsWith("MIMALLOC_")) continue;
      // mimalloc prints every option it knows, with its value, when verbose.
      const run = Bun.spawnSync([process.execPath, "-e", "0"], { env: { ...process.env, [name]: value, MIMALLOC_VERBOSE: "1" }, stdout: "ignore", stderr: "pipe" });
      expect(run.stderr.toString()).toContain(`option '${name.slice("MIMALLOC_".length).toLowerCase()}': ${value}`);
    }
  });
});
