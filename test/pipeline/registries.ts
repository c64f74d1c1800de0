/**
 * A stand-in for Heroku's registry (registry.heroku.com): Debian's docker-registry with logins
 * (SecureRegistry) behind a small HTTPS proxy that refuses every manifest that is not Docker v2
 * schema 2, as Heroku documents, and forwards everything else. Clients use `host` (the proxy);
 * `backend.host` is the plain registry behind it, which takes any manifest.
 */
import * as fs from "fs";
import * as http from "http";
import * as https from "https";
import * as path from "path";

import { SecureRegistry } from "../registry";
import { MANIFEST_V2, freePort } from "./docker";

/** The rule the stand-in enforces beyond what docker-registry does itself, with its source. */
export const HEROKU_REGISTRY_RULE = {
    rule: "Heroku's registry takes Docker Image Manifest V2, Schema 2 only: no OCI manifest, no index or manifest list",
    error: { status: 400, code: "MANIFEST_INVALID", message: "manifest type {mediaType} is not supported; push a Docker v2 schema 2 manifest" },
    source:
        "https://devcenter.heroku.com/articles/container-registry-and-runtime (\"The Heroku Container Registry only supports Docker Image Manifest V2, Schema 2 (application/vnd.docker.distribution.manifest.v2+json). It doesn't support other manifest types, such as OCI Image Manifest\"). Status, code and message are not documented: the distribution spec's MANIFEST_INVALID",
} as const;

/** One manifest PUT the stand-in saw. */
export interface ManifestPut {
    readonly repository: string;
    readonly reference: string;
    readonly mediaType: string;
    readonly status: number;
}

export class DockerV2OnlyRegistry {
    readonly backend: SecureRegistry;
    readonly puts: ManifestPut[] = [];
    host = "";
    private server?: https.Server;
    private ca = "";

    constructor(users: Readonly<Record<string, string>>) {
        this.backend = new SecureRegistry(users);
    }

    async start(): Promise<void> {
        await this.backend.start();
        const certFile = process.env.NODE_EXTRA_CA_CERTS!;
        const tls = path.dirname(certFile);
        this.ca = fs.readFileSync(certFile, "utf8");
        this.server = https.createServer({ cert: fs.readFileSync(path.join(tls, "cert.pem")), key: fs.readFileSync(path.join(tls, "key.pem")) }, (req, res) => {
            this.handle(req, res).catch((err: Error) => {
                if (!res.headersSent) res.writeHead(502, { "Content-Type": "application/json" });
                res.end(JSON.stringify({ errors: [{ code: "UNKNOWN", message: `registry proxy: ${err.message}` }] }));
            });
        });
        const port = await freePort();
        await new Promise<void>((resolve, reject) => {
            this.server!.once("error", reject);
            this.server!.listen(port, "127.0.0.1", () => resolve());
        });
        this.host = `127.0.0.1:${port}`;
    }

    /** The backend with other passwords (a rotated token), on the same address and storage. */
    restart(users: Readonly<Record<string, string>>): Promise<void> {
        return this.backend.restart(users);
    }

    async stop(): Promise<void> {
        if (this.server) {
            this.server.closeAllConnections();
            await new Promise((resolve) => this.server!.close(resolve));
        }
        await this.backend.stop();
    }

    private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
        const target = /^\/v2\/(.+?)\/manifests\/([^/?]+)/.exec(req.url ?? "");
        if (req.method === "PUT" && target) {
            const mediaType = String(req.headers["content-type"] ?? "").split(";")[0].trim();
            if (mediaType !== MANIFEST_V2) {
                req.resume();
                const { status, code, message } = HEROKU_REGISTRY_RULE.error;
                this.puts.push({ repository: target[1], reference: target[2], mediaType, status });
                res.writeHead(status, { "Content-Type": "application/json", "Docker-Distribution-Api-Version": "registry/2.0" });
                res.end(JSON.stringify({ errors: [{ code, message: message.replace("{mediaType}", mediaType), detail: null }] }));
                return;
            }
            const status = await this.forward(req, res);
            this.puts.push({ repository: target[1], reference: target[2], mediaType, status });
            return;
        }
        await this.forward(req, res);
    }

    /** Passes a request to docker-registry with its Host header, so the URLs it answers with point here. */
    private forward(req: http.IncomingMessage, res: http.ServerResponse): Promise<number> {
        return new Promise((resolve, reject) => {
            const up = https.request(
                { host: "127.0.0.1", port: Number(this.backend.host.split(":")[1]), method: req.method, path: req.url, headers: req.headers, ca: this.ca, servername: "localhost" },
                (upRes) => {
                    res.writeHead(upRes.statusCode ?? 502, upRes.headers);
                    upRes.pipe(res);
                    upRes.on("end", () => resolve(upRes.statusCode ?? 502));
                },
            );
            up.on("error", reject);
            req.pipe(up);
        });
    }
}
