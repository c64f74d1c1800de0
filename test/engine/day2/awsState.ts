/**
 * What the lifecycle scenarios read from the fake AWS and its ECR stand-in: the ECS service, the
 * task definition it runs and that definition's container, the current value of a secret (its
 * SHA-256), the digest ECR holds for a tag, and which records are still live after a destroy.
 */
import { createHash } from "crypto";

import { ok, type Stack } from "../cli";
import type { FakeClouds } from "../clouds";
import type { ServiceRecord, TaskDefinitionRecord } from "../fakes/aws/ecs";
import type { SecretRecord } from "../fakes/aws/secretsmanager";

export const sha256 = (text: string): string => createHash("sha256").update(text).digest("hex");

export interface Container {
    image: string;
    environment: Array<{ name: string; value: string }>;
    secrets: Array<{ name: string; valueFrom: string }>;
}

export function ecsService(clouds: FakeClouds, name: string): ServiceRecord {
    const found = Object.values(clouds.table<ServiceRecord>("aws", "ecs.services")).filter((s) => s.name === name && s.status === "ACTIVE");
    if (found.length !== 1) throw new Error(`expected one ACTIVE ECS service ${name}, found ${found.length}`);
    return found[0];
}

/** The revisions of a task definition family, oldest first, as `<revision> <status>`. */
export function revisions(clouds: FakeClouds, family: string): string[] {
    return Object.values(clouds.table<TaskDefinitionRecord>("aws", "ecs.taskDefinitions"))
        .filter((t) => t.family === family)
        .sort((a, b) => a.revision - b.revision)
        .map((t) => `${t.revision} ${t.status}`);
}

/** The first container of the task definition the service runs now. */
export function runningContainer(clouds: FakeClouds, service: string): Container {
    const td = clouds.table<TaskDefinitionRecord>("aws", "ecs.taskDefinitions")[ecsService(clouds, service).taskDefinition];
    return (td.containerDefinitions as Container[])[0];
}

export function envOf(container: Pick<Container, "environment">): Record<string, string> {
    return Object.fromEntries(container.environment.map((e) => [e.name, e.value]));
}

export function secretRecord(clouds: FakeClouds, name: string, region = "eu-west-1"): SecretRecord | undefined {
    return clouds.table<SecretRecord>("aws", "secretsmanager.secrets")[`${region}/${name}`];
}

function currentVersion(clouds: FakeClouds, name: string) {
    return Object.values(secretRecord(clouds, name)?.versions ?? {}).find((v) => v.stages.includes("AWSCURRENT"));
}

/** The SHA-256 of the secret's AWSCURRENT value. */
export function currentSecret(clouds: FakeClouds, name: string): string | undefined {
    return currentVersion(clouds, name)?.sha256;
}

/** The version ID of the secret's AWSCURRENT value. */
export function currentVersionId(clouds: FakeClouds, name: string): string | undefined {
    return currentVersion(clouds, name)?.versionId;
}

/** The manifest digest the ECR stand-in took for `repository:tag` (its proxy logs every manifest PUT). */
export function ecrDigest(clouds: FakeClouds, repository: string, tag: string): string | undefined {
    return clouds.ecr.pushes.find((p) => p.repository === repository && p.reference === tag && p.status === 201)?.digest;
}

/** The tag a push of an image uses: its image ID, `sha256-<hex>` (image.ts tagFor). */
export const tagOf = (imageId: string): string => imageId.replace(":", "-");

/**
 * The records of a fake AWS still live: not what AWS keeps after a delete (deregistered task
 * definitions, inactive clusters and services, terminated environments, secrets in their recovery
 * window) and not the default network.
 */
export function liveAws(clouds: FakeClouds): string[] {
    const kept = (table: string, r: Record<string, unknown>): boolean =>
        ["ec2.vpcs", "ec2.subnets", "ec2.seededRegions"].includes(table) || r.status === "INACTIVE" || r.status === "Terminated" || r.deletionDate !== undefined;
    return Object.entries(clouds.state("aws").tables)
        .flatMap(([table, records]) => Object.entries(records).filter(([, r]) => !kept(table, r)).map(([key]) => `${table} ${key}`))
        .sort();
}

/** The resources a stack's state marks `retainOnDelete` (the engine never deletes them), by type and ID. */
export async function retainedResources(stack: Stack): Promise<Array<{ type: string; id: string }>> {
    const exported = ok(await stack.cli(["stack", "export"], { config: false }), "pulumi stack export");
    const deployment = (JSON.parse(exported.stdout) as { deployment: { resources?: Array<{ type: string; id?: string; retainOnDelete?: boolean; custom?: boolean }> } }).deployment;
    return (deployment.resources ?? []).filter((r) => r.custom && r.retainOnDelete).map((r) => ({ type: r.type, id: r.id ?? "" }));
}

/** Where the fake AWS keeps a resource of `type` with engine ID `id` (a key as liveAws lists it). */
export function awsRecordOf(clouds: FakeClouds, type: string, id: string, region = "eu-west-1"): string {
    if (type === "aws:ecr/repository:Repository") return `ecr.repositories ${region}/${id}`;
    if (type === "aws:secretsmanager/secret:Secret") {
        const key = Object.entries(clouds.table<SecretRecord>("aws", "secretsmanager.secrets")).find(([, r]) => r.arn === id)?.[0];
        if (!key) throw new Error(`no secret ${id} in the fake AWS`);
        return `secretsmanager.secrets ${key}`;
    }
    throw new Error(`awsRecordOf: no mapping for ${type} (add one when the program retains it)`);
}

/**
 * Sets config values as strings. `pulumi config set --path` (and so Stack.setAll, which
 * World.stack uses for a stack file's values) stores an integer-looking value as a number, so a
 * stack file's quoted "1" arrives as 1; `--type string` keeps it a string.
 */
export async function setStrings(stack: Stack, values: Readonly<Record<string, string>>): Promise<void> {
    for (const [key, value] of Object.entries(values)) {
        ok(await stack.cli(["config", "set", "--path", "--type", "string", key.includes(":") ? key : `onedigest:${key}`, value]), `pulumi config set --type string ${key}`);
    }
}
