/** CloudWatch Logs: `aws:cloudwatch/logGroup:LogGroup`, a name per account and region. */
import { type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, autoName, refuse, regionOf, str } from "./common";

const GROUP = "internal/service/logs/group.go";

export const RULES = {
    groupName: {
        rule: "a log group name is unique per account and region",
        error: { status: 400, code: "ResourceAlreadyExistsException", message: "The specified resource already exists." },
        source: "https://docs.aws.amazon.com/AmazonCloudWatchLogs/latest/APIReference/API_CreateLogGroup.html (Errors: ResourceAlreadyExistsException)",
    },
} as const satisfies Record<string, Rule>;

export const GROUP_FORCE_NEW: readonly ForceNew[] = [
    { field: "logGroupClass", source: `${GROUP}:64` },
    { field: "name", source: `${GROUP}:71` },
    { field: "namePrefix", source: `${GROUP}:79` },
];

export const LOG_GROUPS = "logs.groups";

export interface LogGroupRecord extends Props {
    name: string;
    region: string;
    retentionInDays: number;
}

export const logGroup: ResourceModule = {
    type: "aws:cloudwatch/logGroup:LogGroup",
    forceNew: GROUP_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = str(inputs, "name") ?? autoName(op, 512);
        const table = op.db.table<LogGroupRecord>(LOG_GROUPS);
        if (table[`${region}/${name}`]) throw refuse(RULES.groupName, { subject: `CloudWatch Logs Log Group (${name})`, service: "CloudWatch Logs", operation: "CreateLogGroup" });
        const retentionInDays = typeof inputs.retentionInDays === "number" ? inputs.retentionInDays : 0;
        table[`${region}/${name}`] = { name, region, retentionInDays };
        return { id: name, outs: outputs(inputs, region, name, retentionInDays) };
    },
    read(op, id, state) {
        return op.db.table(LOG_GROUPS)[`${regionOf(op, state)}/${id}`] ? state : undefined;
    },
    update(op, id, _olds, news) {
        const region = regionOf(op, news);
        const record = op.db.table<LogGroupRecord>(LOG_GROUPS)[`${region}/${id}`];
        record.retentionInDays = typeof news.retentionInDays === "number" ? news.retentionInDays : 0;
        return outputs(news, region, id, record.retentionInDays);
    },
    delete(op, id, state) {
        // skipDestroy keeps the group (GROUP: resourceGroupDelete).
        if (state.skipDestroy !== true) delete op.db.table(LOG_GROUPS)[`${regionOf(op, state)}/${id}`];
    },
};

function outputs(inputs: Props, region: string, name: string, retentionInDays: number): Props {
    return {
        ...inputs,
        // The provider trims CloudWatch's trailing ":*" (GROUP: resourceGroupFlatten).
        arn: arn("logs", region, `log-group:${name}`),
        deletionProtectionEnabled: inputs.deletionProtectionEnabled ?? false,
        kmsKeyId: inputs.kmsKeyId ?? "",
        logGroupClass: inputs.logGroupClass ?? "STANDARD",
        name,
        namePrefix: "",
        region,
        retentionInDays,
        skipDestroy: inputs.skipDestroy ?? false,
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
    };
}
