import { execFile } from "node:child_process";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { expect } from "chai";
import { loadConfig } from "../src/core/config.js";
import {
  composeValue,
  dockerStages,
  documentedSettings,
  execForm,
  nginxSize,
  readYaml,
  readYamlDocuments,
  type DockerStage,
} from "./support/deploy-files.js";
import { freePort } from "./support/free-port.js";
import { startGateway, type RunningGateway } from "./support/gateway.js";

/**
 * No container runtime runs on the test machines, so the deployment files
 * are checked for what can be checked without one: they parse, and their
 * ports, probe paths, time limits and variables agree with the gateway's own
 * settings (read from loadConfig, not repeated here).
 */
const root = path.resolve(".");
const deploy = path.join(root, "deploy");
const defaults = loadConfig({});
const settings = documentedSettings(root);
const graceSeconds = (env: Record<string, string>) => loadConfig(env).shutdownGraceMs / 1000;
/** The gateway's shutdown: runs drain for up to the grace, then the last events flush for as long. */
const shutdownSeconds = (env: Record<string, string>) => 2 * graceSeconds(env);
const run = promisify(execFile);

/** Values the files leave to the operator, valid for loadConfig. */
const SAMPLES: Record<string, string> = {
  API_KEY: "k".repeat(32),
  AUTH_JWT_SECRET: "s".repeat(32),
  POSTGRES_PASSWORD: "example-password",
};

let gateway: RunningGateway;
before(async () => {
  gateway = await startGateway();
});
after(() => gateway.close());

async function statusOf(pathname: string): Promise<number> {
  return (await fetch(new URL(pathname, gateway.url))).status;
}

function expectKnownSettings(env: Record<string, string>, where: string): void {
  const unknown = Object.keys(env).filter((name) => !settings.has(name));
  expect(unknown, `${where} sets variables the gateway does not read`).to.deep.equal([]);
  expect(() => loadConfig(env), `${where}'s values pass the gateway's checks`).not.to.throw();
}

describe("deploy/Dockerfile", () => {
  const text = readFileSync(path.join(deploy, "Dockerfile"), "utf8");
  const stages = dockerStages(text);
  const runtime = stages.at(-1)!;
  const all = (stage: DockerStage, keyword: string) =>
    stage.instructions.filter((i) => i.keyword === keyword).map((i) => i.args);
  const last = (stage: DockerStage, keyword: string) => all(stage, keyword).at(-1) ?? "";
  const stageFrom = (copy: string) => /--from=(\S+)/.exec(copy)?.[1];

  it("builds in stages and runs as a non-root user", () => {
    expect(stages.length, "stages").to.be.at.least(2);
    expect(
      stages.every((s) => s.name !== undefined),
      "every stage is named",
    ).to.equal(true);
    const user = last(runtime, "USER");
    expect(user, "the final stage sets USER").not.to.equal("");
    expect(["root", "0"]).not.to.include(user.split(":")[0]);
  });

  it("installs the production dependencies with npm ci --omit=dev and copies them into the final stage", () => {
    const copies = all(runtime, "COPY");
    const nodeModules = copies.find((c) => /\snode_modules|\/node_modules/.test(c));
    expect(nodeModules, "the final stage copies node_modules from a stage").to.match(/--from=/);
    const deps = stages.find((s) => s.name === stageFrom(nodeModules!));
    expect(all(deps!, "RUN").join("\n")).to.match(/\bnpm ci --omit=dev\b/);
    expect(all(runtime, "RUN").join("\n"), "no dev dependencies in the final stage").not.to.match(
      /\bnpm (ci|install)\b(?!.*--omit=dev)/,
    );
  });

  it("builds at image build time and starts dist/src/main.js directly, without npm start's prestart build", () => {
    const cmd = execForm(last(runtime, "CMD"));
    expect(cmd).to.deep.equal(["node", "dist/src/main.js"]);
    // tsconfig's outDir "dist" and rootDir "." put src/main.ts there.
    const tsconfig = JSON.parse(readFileSync("tsconfig.json", "utf8")) as {
      compilerOptions: { outDir: string; rootDir: string };
    };
    const compiled = path.join(
      tsconfig.compilerOptions.outDir,
      path.relative(tsconfig.compilerOptions.rootDir, "src/main.js"),
    );
    expect(cmd[1]).to.equal(compiled);
    const dist = all(runtime, "COPY").find((c) => /\/dist\s/.test(c));
    const build = stages.find((s) => s.name === stageFrom(dist ?? ""));
    expect(all(build!, "RUN").join("\n"), "the stage dist/ comes from builds it").to.match(
      /npm run build|tsc -p tsconfig\.build\.json/,
    );
  });

  it("sends the build every source folder tsconfig.build.json compiles (handlers/, graphs/ once added)", () => {
    const build = JSON.parse(readFileSync("tsconfig.build.json", "utf8")) as { include: string[] };
    const ignored = readFileSync(path.join(deploy, "Dockerfile.dockerignore"), "utf8")
      .split("\n")
      .map((l) => l.trim())
      .filter((l) => l !== "" && !l.startsWith("#"));
    for (const folder of build.include) expect(ignored, folder).not.to.include(folder);
    expect(ignored).to.include.members(["node_modules", "dist", ".env"]);
    // Sources named in a plain COPY (not --from) exist in the repository.
    for (const copy of stages.flatMap((s) => all(s, "COPY")).filter((c) => !/--from=/.test(c))) {
      const sources = copy.split(/\s+/).slice(0, -1);
      for (const source of sources) expect(existsSync(source), `COPY ${source}`).to.equal(true);
    }
  });

  it("carries a root langgraph.json into the image when there is one (the gateway serves its graphs)", () => {
    const build = stages.find((s) => all(s, "RUN").some((r) => r.includes("langgraph.json")));
    expect(build, "a stage collects langgraph.json").not.to.equal(undefined);
    expect(all(runtime, "COPY")).to.include(`--from=${build!.name} /app/root-files/ ./`);
  });

  it("exposes the gateway's default port", () => {
    expect(Number(last(runtime, "EXPOSE"))).to.equal(defaults.port);
  });

  describe("HEALTHCHECK", () => {
    const check = execForm(last(runtime, "HEALTHCHECK").replace(/^.*?\bCMD\s+/, ""));

    it("asks /healthz on the port PORT names, and its default is the gateway's", () => {
      expect(check.join(" ")).to.include("/healthz");
      expect(check.join(" ")).to.match(
        new RegExp(`process\\.env\\.PORT \\|\\| ${defaults.port}\\b`),
      );
    });

    it("passes against a running gateway and fails where none answers", async () => {
      const [command, ...args] = check;
      expect(command).to.equal("node");
      const port = new URL(gateway.url).port;
      await run(process.execPath, args, { env: { PORT: port } });
      const closed = String(await freePort());
      const failed = await run(process.execPath, args, { env: { PORT: closed } }).then(
        () => false,
        () => true,
      );
      expect(failed, "the check fails without a gateway").to.equal(true);
    });
  });
});

interface ComposeService {
  build?: { context: string; dockerfile: string };
  image?: string;
  network_mode?: string;
  environment?: Record<string, string | number | boolean>;
  volumes?: string[];
  ports?: string[];
  stop_grace_period?: string;
  depends_on?: Record<string, { condition: string }>;
}

describe("deploy/compose.yaml", () => {
  const compose = readYaml(path.join(deploy, "compose.yaml")) as {
    services: Record<string, ComposeService>;
  };
  const services = compose.services;
  const gateways = Object.entries(services).filter(([, s]) => s.build !== undefined);
  const envOf = (service: ComposeService) =>
    Object.fromEntries(
      Object.entries(service.environment ?? {}).map(([name, value]) => [
        name,
        composeValue(String(value), SAMPLES),
      ]),
    );
  const nginxConf = readFileSync(path.join(deploy, "nginx.conf"), "utf8");

  it("runs Redis, PostgreSQL, nginx and two gateway nodes built from deploy/Dockerfile", () => {
    expect(services["redis"]?.image).to.match(/^redis:/);
    expect(services["postgres"]?.image).to.match(/^postgres:/);
    expect(services["nginx"]?.image).to.match(/^nginx:/);
    expect(gateways).to.have.length(2);
    for (const [, gw] of gateways) {
      expect(path.resolve(deploy, gw.build!.context)).to.equal(root);
      expect(path.resolve(root, gw.build!.dockerfile)).to.equal(path.join(deploy, "Dockerfile"));
      expect(gw.depends_on).to.have.keys("redis", "postgres", "nginx");
    }
  });

  it("routes through deploy/nginx.conf, the file test/cluster-nginx.test.ts runs, to the gateways' ports", () => {
    expect(services["nginx"]?.volumes).to.include("./nginx.conf:/etc/nginx/nginx.conf:ro");
    const upstreams = [...nginxConf.matchAll(/^\s*server 127\.0\.0\.1:(\d+)/gm)].map((m) =>
      Number(m[1]),
    );
    const listen = Number(/^\s*listen (\d+);/m.exec(nginxConf)?.[1]);
    expect(services["nginx"]?.ports).to.deep.equal([`${listen}:${listen}`]);
    // Sharing nginx's network namespace, the gateways are its 127.0.0.1 upstreams.
    const ports = gateways.map(([, gw]) => {
      expect(gw.network_mode).to.equal("service:nginx");
      return loadConfig(envOf(gw)).port;
    });
    expect(ports.sort()).to.deep.equal(upstreams.sort());
    expect(nginxConf, "sticky routing").to.match(/^\s*hash \$remote_addr consistent;/m);
  });

  it("sets only variables the gateway knows, with values it accepts", () => {
    for (const [name, gw] of gateways) expectKnownSettings(envOf(gw), name);
  });

  it("points REDIS_URL and CHECKPOINT_DATABASE_URL at its own services", () => {
    const postgres = services["postgres"]!.environment!;
    for (const [, gw] of gateways) {
      const config = loadConfig(envOf(gw));
      expect(new URL(config.redisUrl!).hostname).to.equal("redis");
      const database = new URL(config.agent.checkpointDatabaseUrl!);
      expect(database.hostname).to.equal("postgres");
      expect(database.username).to.equal(postgres["POSTGRES_USER"]);
      expect(database.pathname).to.equal(`/${String(postgres["POSTGRES_DB"])}`);
    }
  });

  it("waits longer than the gateway's shutdown before it kills a node", () => {
    for (const [, gw] of gateways) {
      const seconds = Number(/^(\d+)s$/.exec(gw.stop_grace_period ?? "")?.[1]);
      expect(seconds).to.be.greaterThan(shutdownSeconds(envOf(gw)));
    }
  });

  it("keeps nginx's read timeout above the heartbeat timeout", () => {
    const timeout = Number(/proxy_read_timeout (\d+)s;/.exec(nginxConf)?.[1]);
    expect(timeout * 1000).to.be.greaterThan(defaults.heartbeat.timeoutMs);
  });
});

interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: { secretKeyRef?: { name: string; key: string } };
}
interface Probe {
  httpGet: { path: string; port: string | number };
}
interface Container {
  ports: { name: string; containerPort: number }[];
  env: EnvVar[];
  envFrom: { configMapRef?: { name: string } }[];
  readinessProbe: Probe;
  livenessProbe: Probe;
  lifecycle: { preStop: { exec: { command: string[] } } };
  securityContext?: { allowPrivilegeEscalation?: boolean };
}
interface Manifest {
  apiVersion: string;
  kind: string;
  metadata: { name: string; annotations?: Record<string, string> };
  spec: Record<string, unknown>;
  data?: Record<string, string>;
}

describe("deploy/kubernetes", () => {
  const folder = path.join(deploy, "kubernetes");
  const files = readdirSync(folder).filter((f) => f.endsWith(".yaml"));
  const manifests = files
    .filter((f) => f !== "kustomization.yaml")
    .flatMap((f) => readYamlDocuments(path.join(folder, f)) as Manifest[]);
  const byKind = (kind: string) => {
    const found = manifests.filter((m) => m.kind === kind);
    expect(found, kind).to.have.length(1);
    return found[0]!;
  };
  const deployment = byKind("Deployment");
  const template = deployment.spec["template"] as {
    metadata: { labels: Record<string, string> };
    spec: {
      terminationGracePeriodSeconds: number;
      securityContext: { runAsNonRoot: boolean; runAsUser: number };
      containers: Container[];
    };
  };
  const container = template.spec.containers[0]!;
  const configMap = byKind("ConfigMap");
  /** The pod's environment, secrets replaced by sample values. */
  const podEnv = (): Record<string, string> => {
    const env: Record<string, string> = { ...configMap.data };
    for (const variable of container.env) {
      if (variable.value !== undefined) env[variable.name] = variable.value;
      else if (variable.valueFrom?.secretKeyRef) {
        env[variable.name] =
          variable.name === "CHECKPOINT_DATABASE_URL"
            ? "postgres://gateway@postgres:5432/gateway"
            : (SAMPLES[variable.name] ?? "");
      }
    }
    return env;
  };
  const containerPort = (port: string | number) =>
    typeof port === "number" ? port : container.ports.find((p) => p.name === port)?.containerPort;

  it("lists every manifest in kustomization.yaml", () => {
    const kustomization = readYaml(path.join(folder, "kustomization.yaml")) as {
      resources: string[];
    };
    expect([...kustomization.resources].sort()).to.deep.equal(
      files.filter((f) => f !== "kustomization.yaml").sort(),
    );
    for (const kind of ["Service", "Ingress", "PodDisruptionBudget", "HorizontalPodAutoscaler"])
      byKind(kind);
  });

  it("probes readiness on /readyz and liveness on /healthz, on the port the gateway listens on", async () => {
    expect(container.readinessProbe.httpGet.path).to.equal("/readyz");
    expect(container.livenessProbe.httpGet.path).to.equal("/healthz");
    const port = loadConfig(podEnv()).port;
    expect(containerPort(container.readinessProbe.httpGet.port)).to.equal(port);
    expect(containerPort(container.livenessProbe.httpGet.port)).to.equal(port);
    // The same paths on a real gateway answer.
    expect(await statusOf(container.readinessProbe.httpGet.path)).to.equal(200);
    expect(await statusOf(container.livenessProbe.httpGet.path)).to.equal(200);
  });

  it("gives a pod more time to stop than preStop and the gateway's shutdown take", () => {
    const [sleep, seconds] = container.lifecycle.preStop.exec.command;
    expect(sleep).to.equal("sleep");
    const preStop = Number(seconds);
    expect(preStop).to.be.greaterThan(0);
    expect(template.spec.terminationGracePeriodSeconds).to.be.greaterThan(
      preStop + shutdownSeconds(podEnv()),
    );
  });

  it("sets only variables the gateway knows, with values it accepts", () => {
    expectKnownSettings(podEnv(), "the Deployment and its ConfigMap");
    expect(container.envFrom.map((e) => e.configMapRef?.name)).to.include(configMap.metadata.name);
  });

  it("takes API_KEY and AUTH_JWT_SECRET from a Secret, never from a written value", () => {
    for (const name of ["API_KEY", "AUTH_JWT_SECRET"]) {
      const variable = container.env.find((e) => e.name === name);
      expect(variable?.valueFrom?.secretKeyRef?.key, name).to.equal(name);
      expect(variable?.value).to.equal(undefined);
      expect(configMap.data ?? {}).not.to.have.property(name);
    }
  });

  it("runs as a non-root user", () => {
    expect(template.spec.securityContext.runAsNonRoot).to.equal(true);
    expect(template.spec.securityContext.runAsUser).to.be.greaterThan(0);
    expect(container.securityContext?.allowPrivilegeEscalation).to.equal(false);
  });

  it("routes the Service and the Ingress to the pods' port, with sticky sessions in ingress-nginx", () => {
    const service = byKind("Service");
    const selector = service.spec["selector"] as Record<string, string>;
    expect(template.metadata.labels).to.include(selector);
    const [servicePort] = service.spec["ports"] as { name: string; targetPort: string | number }[];
    expect(containerPort(servicePort!.targetPort)).to.equal(loadConfig(podEnv()).port);

    const ingress = byKind("Ingress");
    const annotations = ingress.metadata.annotations ?? {};
    expect(annotations["nginx.ingress.kubernetes.io/affinity"]).to.equal("cookie");
    expect(annotations["nginx.ingress.kubernetes.io/session-cookie-name"]).to.be.a("string");
    const readTimeout = Number(annotations["nginx.ingress.kubernetes.io/proxy-read-timeout"]);
    expect(readTimeout * 1000).to.be.greaterThan(loadConfig(podEnv()).heartbeat.timeoutMs);
    const bodySize = nginxSize(annotations["nginx.ingress.kubernetes.io/proxy-body-size"] ?? "");
    expect(bodySize, "a polling POST carries a whole frame").to.be.at.least(
      loadConfig(podEnv()).limits.maxFrameBytes,
    );
    const rules = ingress.spec["rules"] as {
      http: { paths: { backend: { service: { name: string; port: { name: string } } } }[] };
    }[];
    const backend = rules[0]!.http.paths[0]!.backend.service;
    expect(backend.name).to.equal(service.metadata.name);
    expect(backend.port.name).to.equal(servicePort!.name);
  });

  it("keeps pods through disruptions and scales the Deployment", () => {
    const budget = byKind("PodDisruptionBudget");
    const budgetSelector = budget.spec["selector"] as { matchLabels: Record<string, string> };
    expect(template.metadata.labels).to.include(budgetSelector.matchLabels);
    const autoscaler = byKind("HorizontalPodAutoscaler");
    const target = autoscaler.spec["scaleTargetRef"] as { kind: string; name: string };
    expect(target).to.include({ kind: "Deployment", name: deployment.metadata.name });
    expect(autoscaler.spec["minReplicas"], "a PDB of one needs two pods").to.be.at.least(2);
  });
});
