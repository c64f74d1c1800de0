/**
 * Cloud Monitoring: `gcp:monitoring/notificationChannel:NotificationChannel`,
 * `…/uptimeCheckConfig:UptimeCheckConfig`, `…/alertPolicy:AlertPolicy` and `…/dashboard:Dashboard`.
 * Every one needs the Monitoring API on in its project (common.ts). Names are the API's, generated
 * by it (`projects/{project}/alertPolicies/{id}`…): nothing here can clash by name. What the API
 * does hold between resources: an alert policy names channels that exist, and a channel that a
 * policy still names is not deleted unless forced. Records by `<project>/<id>`.
 */
import { createHash } from "crypto";

import { CloudError, isUnknown, type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { GoogleError, projectNumber, projectOf, requireService, str, stringMap, timestamp } from "./common";

const DIR = "google/services/monitoring";
const CHANNEL_FILE = `${DIR}/resource_monitoring_notification_channel.go`;
const UPTIME_FILE = `${DIR}/resource_monitoring_uptime_check_config.go`;
const POLICY_FILE = `${DIR}/resource_monitoring_alert_policy.go`;
const DASHBOARD_FILE = `${DIR}/resource_monitoring_dashboard.go`;
const API = "monitoring.googleapis.com";

export const CHANNELS = "monitoring.notificationChannels";
export const UPTIME_CHECKS = "monitoring.uptimeCheckConfigs";
export const POLICIES = "monitoring.alertPolicies";
export const DASHBOARDS = "monitoring.dashboards";

export const RULES = {
    emailAddress: {
        rule: "an email channel carries its address: the email descriptor's one label, email_address",
        error: { status: 400, code: "INVALID_ARGUMENT", message: "Request was missing field notification_channel.labels[email_address]." },
        source: "hashicorp/terraform-provider-google#5499 (the API's answer to an email channel without it); env0/terratag#175 (the email descriptor: labels [email_address], no other)",
    },
    channelName: {
        rule: "an alert policy names its channels by resource name, projects/{project}/notificationChannels/{id}",
        error: { status: 400, code: "INVALID_ARGUMENT", message: "Name must begin with 'projects/{project_id}/notificationChannels/{channel_id}', got: {name}" },
        source: "crossplane-contrib/provider-upjet-gcp#498 (the API's answer: \"Error creating AlertPolicy: googleapi: Error 400: Name must begin with …\")",
    },
    channelNotFound: {
        rule: "an alert policy names channels that exist",
        error: { status: 404, code: "NOT_FOUND", message: "Notification channel not found" },
        source: "hashicorp/terraform-provider-google#25878 (google_monitoring_alert_policy Error 404: Notification channel not found)",
    },
    channelInUse: {
        rule: "a channel that an alert policy still names is not deleted, unless forceDelete (the policies then drop it)",
        error: { status: 400, code: "FAILED_PRECONDITION", message: "Notification channel {name} is referenced by alert policies: {policies}" },
        source: `${CHANNEL_FILE}:283-290 (force_delete: "If false, channels that are still referenced by an existing alerting policy will fail to be deleted in a delete operation"). The API's wording is not documented: its status for a precondition (https://google.aip.dev/193)`,
    },
    dashboardJson: {
        rule: "a dashboard is given as JSON",
        error: { status: 0, code: "provider", message: '"dashboard_json" contains an invalid JSON: {why}' },
        source: `${DASHBOARD_FILE}:102 (validation.StringIsJSON)`,
    },
} as const satisfies Record<string, Rule>;

const CHANNEL_FORCE_NEW: readonly ForceNew[] = [{ field: "project", source: `${CHANNEL_FILE}:297` }];
const UPTIME_FORCE_NEW: readonly ForceNew[] = [
    { field: "checkerType", source: `${UPTIME_FILE}:167` },
    { field: "httpCheck.authInfo.passwordWoVersion", source: `${UPTIME_FILE}:271` },
    { field: "httpCheck.requestMethod", source: `${UPTIME_FILE}:342` },
    // Its labels and type are ForceNew too (UPTIME_FILE:403, 411).
    { field: "monitoredResource", source: `${UPTIME_FILE}:385` },
    // Its groupId and resourceType are ForceNew too (UPTIME_FILE:435, 443).
    { field: "resourceGroup", source: `${UPTIME_FILE}:427` },
    // Its cloudFunctionV2 and name are ForceNew too (UPTIME_FILE:471, 479).
    { field: "syntheticMonitor", source: `${UPTIME_FILE}:463` },
    { field: "project", source: `${UPTIME_FILE}:540` },
];
const POLICY_FORCE_NEW: readonly ForceNew[] = [{ field: "project", source: `${POLICY_FILE}:1313` }];
const DASHBOARD_FORCE_NEW: readonly ForceNew[] = [{ field: "project", source: `${DASHBOARD_FILE}:114` }];

export interface ChannelRecord extends Props {
    project: string;
    name: string;
    type: string;
    labels: Record<string, string>;
}
export interface UptimeCheckRecord extends Props {
    project: string;
    name: string;
    uptimeCheckId: string;
    displayName: string;
    httpCheck: unknown;
    monitoredResource: unknown;
    period: string;
}
export interface PolicyRecord extends Props {
    project: string;
    name: string;
    displayName: string;
    conditions: unknown;
    notificationChannels: string[];
}
export interface DashboardRecord extends Props {
    project: string;
    name: string;
    dashboard: unknown;
}

/** An ID the API would give: stable digits from what is made and when. */
function numericId(seed: string): string {
    return String(BigInt(`0x${createHash("sha256").update(seed).digest("hex").slice(0, 15)}`));
}

function key(project: string, name: string): string {
    return `${project}/${name.split("/").pop() ?? name}`;
}

function googleError(rule: Rule, what: string, values: Readonly<Record<string, string>> = {}): GoogleError {
    return new GoogleError(CloudError.of(rule, values), { what });
}

/** Whether the channel's labels say where to send: an email channel needs its address. */
function channelProblem(inputs: Props): Rule | undefined {
    const labels = stringMap(inputs, "labels");
    return str(inputs, "type") === "email" && !labels.email_address ? RULES.emailAddress : undefined;
}

function channelOutputs(inputs: Props, record: ChannelRecord): Props {
    return {
        ...inputs,
        project: record.project,
        name: record.name,
        enabled: inputs.enabled ?? true,
        forceDelete: inputs.forceDelete ?? false,
        labels: record.labels,
        userLabels: inputs.userLabels ?? {},
        // Email channels are not verified (verification is for SMS).
        verificationStatus: "",
    };
}

export const notificationChannel: ResourceModule = {
    type: "gcp:monitoring/notificationChannel:NotificationChannel",
    forceNew: CHANNEL_FORCE_NEW,
    create(op, inputs) {
        const project = projectOf(op, inputs);
        requireService(op.db, project, API);
        const problem = channelProblem(inputs);
        if (problem) throw googleError(problem, "Error creating NotificationChannel");
        const name = `projects/${project}/notificationChannels/${numericId(`${op.urn}@${op.now()}`)}`;
        const record: ChannelRecord = { project, name, type: str(inputs, "type") ?? "", labels: stringMap(inputs, "labels") };
        op.db.table<ChannelRecord>(CHANNELS)[key(project, name)] = record;
        return { id: name, outs: channelOutputs(inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<ChannelRecord>(CHANNELS)[key(String(state.project), id)];
        return record ? { ...state, labels: record.labels } : undefined;
    },
    update(op, id, _olds, news) {
        const project = projectOf(op, news);
        const problem = channelProblem(news);
        if (problem) throw googleError(problem, "Error updating NotificationChannel");
        const record = op.db.table<ChannelRecord>(CHANNELS)[key(project, id)];
        record.labels = stringMap(news, "labels");
        return channelOutputs(news, record);
    },
    delete(op, id, state) {
        const project = String(state.project);
        const users = Object.values(op.db.table<PolicyRecord>(POLICIES)).filter((p) => p.notificationChannels.includes(id));
        if (users.length > 0 && state.forceDelete !== true) {
            throw googleError(RULES.channelInUse, "Error deleting NotificationChannel", { name: id, policies: users.map((p) => p.name).join(", ") });
        }
        for (const p of users) p.notificationChannels = p.notificationChannels.filter((c) => c !== id);
        delete op.db.table(CHANNELS)[key(project, id)];
    },
};

function uptimeOutputs(inputs: Props, record: UptimeCheckRecord): Props {
    return {
        ...inputs,
        project: record.project,
        name: record.name,
        uptimeCheckId: record.uptimeCheckId,
        checkerType: inputs.checkerType ?? "STATIC_IP_CHECKERS",
        period: record.period,
        selectedRegions: inputs.selectedRegions ?? [],
        userLabels: inputs.userLabels ?? {},
    };
}

export const uptimeCheckConfig: ResourceModule = {
    type: "gcp:monitoring/uptimeCheckConfig:UptimeCheckConfig",
    forceNew: UPTIME_FORCE_NEW,
    create(op, inputs) {
        const project = projectOf(op, inputs);
        requireService(op.db, project, API);
        const displayName = str(inputs, "displayName") ?? "";
        // The API makes the ID from the display name and a suffix of its own.
        const slug = displayName.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 50);
        const uptimeCheckId = `${slug}-${numericId(`${op.urn}@${op.now()}`).slice(0, 10)}`;
        const name = `projects/${project}/uptimeCheckConfigs/${uptimeCheckId}`;
        // The provider's default period (UPTIME_FILE:422).
        const record: UptimeCheckRecord = { project, name, uptimeCheckId, displayName, httpCheck: inputs.httpCheck, monitoredResource: inputs.monitoredResource, period: str(inputs, "period") ?? "300s" };
        op.db.table<UptimeCheckRecord>(UPTIME_CHECKS)[key(project, name)] = record;
        return { id: name, outs: uptimeOutputs(inputs, record) };
    },
    read(op, id, state) {
        return op.db.table(UPTIME_CHECKS)[key(String(state.project), id)] ? state : undefined;
    },
    update(op, id, _olds, news) {
        const record = op.db.table<UptimeCheckRecord>(UPTIME_CHECKS)[key(projectOf(op, news), id)];
        Object.assign(record, { displayName: str(news, "displayName") ?? "", httpCheck: news.httpCheck, period: str(news, "period") ?? "300s" });
        return uptimeOutputs(news, record);
    },
    delete(op, id, state) {
        delete op.db.table(UPTIME_CHECKS)[key(String(state.project), id)];
    },
};

/** The channels a policy names must be channel names, of channels that exist. */
function checkChannels(op: Op, inputs: Props, verb: "creating" | "updating"): string[] {
    const channels = Array.isArray(inputs.notificationChannels) ? (inputs.notificationChannels as string[]) : [];
    const what = `Error ${verb} AlertPolicy`;
    for (const name of channels) {
        if (isUnknown(name)) continue;
        const m = /^projects\/([^/]+)\/notificationChannels\/[^/]+$/.exec(name);
        if (!m) throw googleError(RULES.channelName, what, { name });
        if (!op.db.table<ChannelRecord>(CHANNELS)[key(m[1], name)]) throw googleError(RULES.channelNotFound, what);
    }
    return channels;
}

function policyOutputs(inputs: Props, record: PolicyRecord, created: string): Props {
    const conditions = Array.isArray(inputs.conditions) ? (inputs.conditions as Props[]) : [];
    return {
        ...inputs,
        project: record.project,
        name: record.name,
        // The API names every condition under its policy.
        conditions: conditions.map((c, i) => ({ ...c, name: `${record.name}/conditions/${numericId(`${record.name}/${i}`)}` })),
        creationRecords: [{ mutateTime: created, mutatedBy: "fake" }],
        enabled: inputs.enabled ?? true,
        notificationChannels: record.notificationChannels,
        userLabels: inputs.userLabels ?? {},
    };
}

export const alertPolicy: ResourceModule = {
    type: "gcp:monitoring/alertPolicy:AlertPolicy",
    forceNew: POLICY_FORCE_NEW,
    create(op, inputs) {
        const project = projectOf(op, inputs);
        requireService(op.db, project, API);
        const notificationChannels = checkChannels(op, inputs, "creating");
        const name = `projects/${project}/alertPolicies/${numericId(`${op.urn}@${op.now()}`)}`;
        const record: PolicyRecord = { project, name, displayName: str(inputs, "displayName") ?? "", conditions: inputs.conditions, notificationChannels };
        op.db.table<PolicyRecord>(POLICIES)[key(project, name)] = record;
        return { id: name, outs: policyOutputs(inputs, record, timestamp(op.now())) };
    },
    read(op, id, state) {
        const record = op.db.table<PolicyRecord>(POLICIES)[key(String(state.project), id)];
        return record ? { ...state, notificationChannels: record.notificationChannels } : undefined;
    },
    update(op, id, olds, news) {
        const notificationChannels = checkChannels(op, news, "updating");
        const record = op.db.table<PolicyRecord>(POLICIES)[key(projectOf(op, news), id)];
        Object.assign(record, { displayName: str(news, "displayName") ?? "", conditions: news.conditions, notificationChannels });
        const created = (olds.creationRecords as Array<{ mutateTime: string }> | undefined)?.[0]?.mutateTime ?? timestamp(op.now());
        return policyOutputs(news, record, created);
    },
    delete(op, id, state) {
        delete op.db.table(POLICIES)[key(String(state.project), id)];
    },
};

function parseDashboard(inputs: Props, what: string): unknown {
    try {
        return JSON.parse(str(inputs, "dashboardJson") ?? "") as unknown;
    } catch (err) {
        throw googleError(RULES.dashboardJson, what, { why: (err as Error).message });
    }
}

export const dashboard: ResourceModule = {
    type: "gcp:monitoring/dashboard:Dashboard",
    forceNew: DASHBOARD_FORCE_NEW,
    check(inputs) {
        const text = str(inputs, "dashboardJson");
        if (text === undefined || isUnknown(text)) return [];
        try {
            JSON.parse(text);
            return [];
        } catch (err) {
            return [{ property: "dashboardJson", reason: RULES.dashboardJson.error.message.replace("{why}", (err as Error).message) }];
        }
    },
    create(op, inputs) {
        const project = projectOf(op, inputs);
        requireService(op.db, project, API);
        const parsed = parseDashboard(inputs, "Error creating Dashboard");
        // The API names a dashboard by project number (the provider's ID is that name: DASHBOARD_FILE:164).
        const name = `projects/${projectNumber(project)}/dashboards/${numericId(`${op.urn}@${op.now()}`)}`;
        op.db.table<DashboardRecord>(DASHBOARDS)[key(project, name)] = { project, name, dashboard: parsed };
        return { id: name, outs: { ...inputs, project } };
    },
    read(op, id, state) {
        return op.db.table(DASHBOARDS)[key(String(state.project), id)] ? state : undefined;
    },
    update(op, id, _olds, news) {
        const project = projectOf(op, news);
        op.db.table<DashboardRecord>(DASHBOARDS)[key(project, id)].dashboard = parseDashboard(news, "Error updating Dashboard");
        return { ...news, project };
    },
    delete(op, id, state) {
        delete op.db.table(DASHBOARDS)[key(String(state.project), id)];
    },
};
