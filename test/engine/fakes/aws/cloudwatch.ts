/**
 * CloudWatch alarms and dashboards: `aws:cloudwatch/metricAlarm:MetricAlarm` and
 * `aws:cloudwatch/dashboard:Dashboard`.
 *
 * Neither name is refused when taken. PutMetricAlarm with the name of an existing alarm overwrites
 * it ("When you update an existing alarm, its state is left unchanged, but the update completely
 * overwrites the previous configuration of the alarm": API_PutMetricAlarm.html), and the provider
 * does not look first (hashicorp/terraform-provider-aws#44146, open; #44169 proposes the check).
 * PutDashboard likewise replaces a dashboard of the same name, and dashboards are per account, not
 * per region ("All dashboards in your account are global, not region-specific": API_PutDashboard.html).
 * So a second stack naming the same alarm or dashboard takes it over silently; the fake does the
 * same and records every resource that wrote it (`owners`). Deleting it deletes it for all of them,
 * and the others' next read finds it gone. Names scoped by stack (providers/names.ts) keep clear of this.
 *
 * ForceNew sources: metric_alarm.go as stored at commit 055611a654738da73e7b1e2b5d2b7672c6d4d531 (the
 * branch of #44169: its schema rows are upstream's, its create-time name check is the open proposal's),
 * dashboard.go at 0620f2a6a126dfcbc4aecbc9a117b0fbea1656ff (hashicorp/terraform-provider-aws).
 */
import { isUnknown, type ForceNew, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { ACCOUNT_ID, arn, refuse, regionOf, required, str, type Call } from "./common";

const ALARM = "internal/service/cloudwatch/metric_alarm.go";
const DASHBOARD = "internal/service/cloudwatch/dashboard.go";
const API = "https://docs.aws.amazon.com/AmazonCloudWatch/latest/APIReference";

export const RULES = {
    oneReturnData: {
        rule: "an alarm on metric math returns exactly one series: one metric query with returnData true (the provider does not check; PutMetricAlarm refuses)",
        error: { status: 400, code: "ValidationError", message: "Exactly one element of the metrics list should return data." },
        source: "hashicorp/terraform-provider-aws#29894 (the run-time error of PutMetricAlarm); hashicorp/terraform-provider-aws#41780 (\"Specify exactly one metric_query to be true\")",
    },
    datapoints: {
        rule: "an alarm needs at most as many datapoints to alarm as it evaluates periods",
        error: { status: 400, code: "ValidationError", message: "DatapointsToAlarm must be less than or equal to EvaluationPeriods" },
        source: `hashicorp/terraform#24070 (PutMetricAlarm's ValidationError); ${API}/API_PutMetricAlarm.html (DatapointsToAlarm)`,
    },
    actionArn: {
        rule: "alarm and OK actions are ARNs (an SNS topic's, an Auto Scaling policy's)",
        error: { status: 0, code: "provider", message: '"{field}" ({value}) is an invalid ARN: arn: invalid prefix' },
        source: `${ALARM}:62 (alarm_actions: verify.ValidARN; ok_actions likewise); internal/verify/validate.go ValidARN`,
    },
    dashboardJson: {
        rule: "a dashboard body is JSON",
        error: { status: 0, code: "provider", message: '"dashboard_body" contains an invalid JSON: {why}' },
        source: `${DASHBOARD}:48 (validation.StringIsJSON)`,
    },
} as const satisfies Record<string, Rule>;

export const ALARM_FORCE_NEW: readonly ForceNew[] = [{ field: "name", source: `${ALARM}:75` }];
export const DASHBOARD_FORCE_NEW: readonly ForceNew[] = [{ field: "dashboardName", source: `${DASHBOARD}:59` }];

export const ALARMS = "cloudwatch.alarms";
export const DASHBOARDS = "cloudwatch.dashboards";

export interface AlarmRecord extends Props {
    arn: string;
    name: string;
    region: string;
    /** The configuration PutMetricAlarm last received. */
    config: Props;
    /** Every resource (URN) that wrote it, the last one last. */
    owners: string[];
}

export interface DashboardRecord extends Props {
    arn: string;
    name: string;
    body: unknown;
    owners: string[];
}

function cwCall(operation: string, subject: string): Call {
    return { subject, service: "CloudWatch", operation };
}

/** What PutMetricAlarm checks of an alarm, in the order it answers. */
function validateAlarm(inputs: Props, call: Call): void {
    const queries = Array.isArray(inputs.metricQueries) ? (inputs.metricQueries as Props[]) : [];
    if (queries.length > 0 && queries.filter((q) => q.returnData === true).length !== 1) throw refuse(RULES.oneReturnData, call);
    const evaluation = typeof inputs.evaluationPeriods === "number" ? inputs.evaluationPeriods : 1;
    if (typeof inputs.datapointsToAlarm === "number" && inputs.datapointsToAlarm > evaluation) throw refuse(RULES.datapoints, call);
}

/** The configuration as PutMetricAlarm keeps it: what was sent, tags aside. */
function alarmConfig(inputs: Props): Props {
    const { tags: _tags, tagsAll: _tagsAll, ...config } = inputs;
    return config;
}

function alarmOutputs(inputs: Props, record: AlarmRecord): Props {
    return {
        ...inputs,
        actionsEnabled: inputs.actionsEnabled ?? true,
        alarmActions: inputs.alarmActions ?? [],
        arn: record.arn,
        insufficientDataActions: inputs.insufficientDataActions ?? [],
        name: record.name,
        okActions: inputs.okActions ?? [],
        region: record.region,
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        treatMissingData: inputs.treatMissingData ?? "missing",
    };
}

function put(op: Op, inputs: Props, operation: string): AlarmRecord {
    const region = regionOf(op, inputs);
    const name = required(inputs, "name", "aws:cloudwatch/metricAlarm:MetricAlarm");
    validateAlarm(inputs, cwCall(operation, `CloudWatch Metric Alarm (${name})`));
    const table = op.db.table<AlarmRecord>(ALARMS);
    const key = `${region}/${name}`;
    const existing = table[key];
    const owners = existing ? [...existing.owners.filter((o) => o !== op.urn), op.urn] : [op.urn];
    table[key] = { arn: arn("cloudwatch", region, `alarm:${name}`), name, region, config: alarmConfig(inputs), owners };
    return table[key];
}

const ACTION_FIELDS = ["alarmActions", "okActions", "insufficientDataActions"] as const;

export const metricAlarm: ResourceModule = {
    type: "aws:cloudwatch/metricAlarm:MetricAlarm",
    forceNew: ALARM_FORCE_NEW,
    check(inputs) {
        const failures: Array<{ property: string; reason: string }> = [];
        for (const field of ACTION_FIELDS) {
            const actions = Array.isArray(inputs[field]) ? (inputs[field] as unknown[]) : [];
            actions.forEach((value, i) => {
                if (typeof value === "string" && !isUnknown(value) && !value.startsWith("arn:")) {
                    failures.push({ property: field, reason: RULES.actionArn.error.message.replace("{field}", `${field}.${i}`).replace("{value}", value) });
                }
            });
        }
        return failures;
    },
    create(op, inputs) {
        const record = put(op, inputs, "PutMetricAlarm");
        return { id: record.name, outs: alarmOutputs(inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<AlarmRecord>(ALARMS)[`${regionOf(op, state)}/${id}`];
        return record ? { ...state, ...alarmOutputs(record.config, record) } : undefined;
    },
    update(op, _id, _olds, news) {
        return alarmOutputs(news, put(op, news, "PutMetricAlarm"));
    },
    delete(op, id, state) {
        // DeleteAlarms by name: whoever else wrote it loses it too.
        delete op.db.table(ALARMS)[`${regionOf(op, state)}/${id}`];
    },
};

function putDashboard(op: Op, inputs: Props): DashboardRecord {
    const name = required(inputs, "dashboardName", "aws:cloudwatch/dashboard:Dashboard");
    const text = required(inputs, "dashboardBody", "aws:cloudwatch/dashboard:Dashboard");
    let body: unknown;
    try {
        body = JSON.parse(text) as unknown;
    } catch (err) {
        throw refuse(RULES.dashboardJson, cwCall("PutDashboard", `CloudWatch Dashboard (${name})`), { why: (err as Error).message });
    }
    const table = op.db.table<DashboardRecord>(DASHBOARDS);
    const existing = table[name];
    const owners = existing ? [...existing.owners.filter((o) => o !== op.urn), op.urn] : [op.urn];
    // A dashboard's ARN names no region: dashboards are the account's.
    table[name] = { arn: `arn:aws:cloudwatch::${ACCOUNT_ID}:dashboard/${name}`, name, body, owners };
    return table[name];
}

function dashboardOutputs(inputs: Props, record: DashboardRecord, region: string): Props {
    return { ...inputs, dashboardArn: record.arn, dashboardName: record.name, region };
}

export const dashboard: ResourceModule = {
    type: "aws:cloudwatch/dashboard:Dashboard",
    forceNew: DASHBOARD_FORCE_NEW,
    check(inputs) {
        const text = str(inputs, "dashboardBody");
        if (text === undefined) return [];
        try {
            JSON.parse(text);
            return [];
        } catch (err) {
            return [{ property: "dashboardBody", reason: RULES.dashboardJson.error.message.replace("{why}", (err as Error).message) }];
        }
    },
    create(op, inputs) {
        const record = putDashboard(op, inputs);
        return { id: record.name, outs: dashboardOutputs(inputs, record, regionOf(op, inputs)) };
    },
    read(op, id, state) {
        const record = op.db.table<DashboardRecord>(DASHBOARDS)[id];
        return record ? { ...state, dashboardArn: record.arn } : undefined;
    },
    update(op, _id, _olds, news) {
        return dashboardOutputs(news, putDashboard(op, news), regionOf(op, news));
    },
    delete(op, id) {
        delete op.db.table(DASHBOARDS)[id];
    },
};
