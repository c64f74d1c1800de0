/**
 * Elastic Beanstalk: `aws:elasticbeanstalk/application:Application`, `…/applicationVersion:ApplicationVersion`,
 * `…/environment:Environment` and the `getSolutionStack` invoke. An environment record keeps every
 * UpdateEnvironment it received (`updates`), so a test sees what rolled out and how.
 *
 * UpdateEnvironment: the provider sends everything that changed in one call — a changed `settings`
 * set as OptionSettings (environment.go:511) and a changed `version` as VersionLabel
 * (environment.go:527), both in the one `conn.UpdateEnvironment` (environment.go:530) — and Elastic
 * Beanstalk refuses a call that deploys a version and changes configuration at once.
 */
import { CloudError, type ForceNew, type InvokeFn, type Op, type Props, type ResourceModule, type Rule } from "../framework";
import { arn, canonical, hexId, refuse, regionOf, required, stableHex, str, type Call } from "./common";

const APPLICATION = "internal/service/elasticbeanstalk/application.go";
const VERSION = "internal/service/elasticbeanstalk/application_version.go";
const ENVIRONMENT = "internal/service/elasticbeanstalk/environment.go";
const API = "https://docs.aws.amazon.com/elasticbeanstalk/latest/api";

export const RULES = {
    applicationName: {
        rule: "an application name is unique within the account (per region)",
        error: { status: 400, code: "InvalidParameterValue", message: "Application {name} already exists." },
        source: `${API}/API_CreateApplication.html (ApplicationName: "Must be unique within your account")`,
    },
    applicationNotFound: {
        rule: "versions and environments belong to an existing application",
        error: { status: 400, code: "InvalidParameterValue", message: "No Application named '{name}' found." },
        source: "awsdocs/aws-elastic-beanstalk-developer-guide#100 (CreateApplicationVersion: \"No Application named 'my-app' found.\")",
    },
    versionLabel: {
        rule: "a version label is unique within its application",
        error: { status: 400, code: "InvalidParameterValue", message: "Application Version {label} already exists." },
        source: `${API}/API_CreateApplicationVersion.html (VersionLabel: "Must be unique per application"); travis-ci/dpl#1184 (the message)`,
    },
    versionNotFound: {
        rule: "an environment runs an existing version of its application",
        error: { status: 400, code: "InvalidParameterValue", message: "No Application Version named '{label}' found." },
        source: `${API}/API_CreateEnvironment.html (VersionLabel: "the named application version"); onnela-lab/beiwe-backend#82 (the message)`,
    },
    environmentName: {
        rule: "an environment name is unique within the account and region, across applications",
        error: { status: 400, code: "InvalidParameterValue", message: "Environment {name} already exists." },
        source: `${API}/API_CreateEnvironment.html (EnvironmentName: "A unique name for the environment"); hashicorp/terraform#7173 (the message, across applications)`,
    },
    versionAndConfiguration: {
        rule: "one UpdateEnvironment cannot deploy an application version and change option settings",
        error: { status: 400, code: "InvalidParameterCombination", message: "You cannot update the application version and make configuration updates at the same time" },
        source: `${API}/API_UpdateEnvironment.html ("Attempting to update both the release and configuration is not allowed and AWS Elastic Beanstalk returns an InvalidParameterCombination error."); ingenieux/beanstalker#8 (the message); ${ENVIRONMENT}:511,527,530 (both sent in one call)`,
    },
} as const satisfies Record<string, Rule>;

export const APPLICATION_FORCE_NEW: readonly ForceNew[] = [{ field: "name", source: `${APPLICATION}:78` }];
export const VERSION_FORCE_NEW: readonly ForceNew[] = [
    { field: "application", source: `${VERSION}:38` },
    { field: "bucket", source: `${VERSION}:47` },
    { field: "key", source: `${VERSION}:61` },
    { field: "name", source: `${VERSION}:66` },
];
export const ENVIRONMENT_FORCE_NEW: readonly ForceNew[] = [
    { field: "cnamePrefix", source: `${ENVIRONMENT}:129` },
    { field: "name", source: `${ENVIRONMENT}:157` },
    { field: "tier", source: `${ENVIRONMENT}:197` },
];

export const APPLICATIONS = "elasticbeanstalk.applications";
export const ENVIRONMENTS = "elasticbeanstalk.environments";

export interface VersionRecord extends Props {
    label: string;
    bucket: string;
    key: string;
    createdAt: string;
}
export interface ApplicationRecord extends Props {
    name: string;
    region: string;
    versions: Record<string, VersionRecord>;
}
export interface EnvironmentUpdate extends Props {
    at: string;
    versionLabel?: string;
    optionSettings?: unknown;
}
export interface EnvironmentRecord extends Props {
    id: string;
    name: string;
    application: string;
    region: string;
    status: "Ready" | "Terminated";
    versionLabel: string;
    settings: unknown;
    cname: string;
    updates: EnvironmentUpdate[];
}

function ebCall(operation: string, subject: string): Call {
    return { subject, service: "Elastic Beanstalk", operation };
}

function applicationOf(op: Op, region: string, name: string, call: Call): ApplicationRecord {
    const record = op.db.table<ApplicationRecord>(APPLICATIONS)[`${region}/${name}`];
    if (!record) throw refuse(RULES.applicationNotFound, call, { name });
    return record;
}

export const application: ResourceModule = {
    type: "aws:elasticbeanstalk/application:Application",
    forceNew: APPLICATION_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const name = required(inputs, "name", "aws:elasticbeanstalk/application:Application");
        const table = op.db.table<ApplicationRecord>(APPLICATIONS);
        if (table[`${region}/${name}`]) throw refuse(RULES.applicationName, ebCall("CreateApplication", `Elastic Beanstalk Application (${name})`), { name });
        table[`${region}/${name}`] = { name, region, versions: {} };
        return { id: name, outs: { ...inputs, arn: arn("elasticbeanstalk", region, `application/${name}`), description: inputs.description ?? "", name, region, tags: inputs.tags ?? {}, tagsAll: inputs.tags ?? {} } };
    },
    read(op, id, state) {
        return op.db.table(APPLICATIONS)[`${regionOf(op, state)}/${id}`] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        // DeleteApplication deletes the application's versions with it (API_DeleteApplication.html).
        delete op.db.table(APPLICATIONS)[`${regionOf(op, state)}/${id}`];
    },
};

export const applicationVersion: ResourceModule = {
    type: "aws:elasticbeanstalk/applicationVersion:ApplicationVersion",
    forceNew: VERSION_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const type = "aws:elasticbeanstalk/applicationVersion:ApplicationVersion";
        const appName = required(inputs, "application", type);
        const label = required(inputs, "name", type);
        const call = ebCall("CreateApplicationVersion", `Elastic Beanstalk Application Version (${label})`);
        const app = applicationOf(op, region, appName, call);
        if (app.versions[label]) throw refuse(RULES.versionLabel, call, { label });
        app.versions[label] = { label, bucket: required(inputs, "bucket", type), key: required(inputs, "key", type), createdAt: new Date(op.now()).toISOString() };
        return {
            id: label,
            outs: { ...inputs, arn: arn("elasticbeanstalk", region, `applicationversion/${appName}/${label}`), description: inputs.description ?? "", forceDelete: inputs.forceDelete ?? false, process: inputs.process ?? false, region, tags: inputs.tags ?? {}, tagsAll: inputs.tags ?? {} },
        };
    },
    read(op, id, state) {
        return op.db.table<ApplicationRecord>(APPLICATIONS)[`${regionOf(op, state)}/${String(state.application)}`]?.versions[id] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        const app = op.db.table<ApplicationRecord>(APPLICATIONS)[`${regionOf(op, state)}/${String(state.application)}`];
        if (app) delete app.versions[id];
    },
};

/** Option settings compared as a set, as the provider's `setting` is one (ENVIRONMENT: hashSettingsValue). */
function settingsKey(settings: unknown): string {
    const list = Array.isArray(settings) ? (settings as Props[]) : [];
    return canonical(list.map((s) => canonical({ namespace: s.namespace, name: s.name, value: s.value, resource: s.resource ?? "" })).sort());
}

/**
 * The environment's load balancer as the provider reports it: DescribeEnvironmentResources'
 * LoadBalancers[].Name (environment.go flattenLoadBalancers), which names a Classic Load Balancer and
 * gives an Application Load Balancer's ARN (what cloudposse/terraform-aws-elastic-beanstalk-environment#73
 * passes on to a WAF association, which takes an ARN).
 */
function loadBalancerOf(record: EnvironmentRecord): string {
    const settings = Array.isArray(record.settings) ? (record.settings as Props[]) : [];
    const type = settings.find((s) => s.namespace === "aws:elasticbeanstalk:environment" && s.name === "LoadBalancerType")?.value ?? "classic";
    const name = `awseb-${record.id}-AWSEBLoa-${record.id.slice(2).toUpperCase()}`;
    if (type !== "application") return name;
    const albName = `awseb-AWSEB-${record.id.slice(2).toUpperCase()}`.slice(0, 32);
    return arn("elasticloadbalancing", record.region, `loadbalancer/app/${albName}/${stableHex(record.id, 16)}`);
}

function environmentOutputs(inputs: Props, record: EnvironmentRecord): Props {
    return {
        ...inputs,
        allSettings: record.settings,
        application: record.application,
        arn: arn("elasticbeanstalk", record.region, `environment/${record.application}/${record.name}`),
        autoscalingGroups: [`awseb-${record.id}-stack-AWSEBAutoScalingGroup-${record.id.slice(2).toUpperCase()}`],
        cname: record.cname,
        cnamePrefix: record.cname.split(".")[0],
        description: inputs.description ?? "",
        endpointUrl: `awseb-${record.id}-AWSEBLoa-${record.id.slice(2).toUpperCase()}.${record.region}.elb.amazonaws.com`,
        instances: [],
        launchConfigurations: [],
        loadBalancers: [loadBalancerOf(record)],
        name: record.name,
        platformArn: `arn:aws:elasticbeanstalk:${record.region}::platform/Docker running on 64bit Amazon Linux 2023/4.4.1`,
        queues: [],
        region: record.region,
        settings: record.settings,
        tags: inputs.tags ?? {},
        tagsAll: inputs.tags ?? {},
        tier: inputs.tier ?? "WebServer",
        triggers: [],
        version: record.versionLabel,
        waitForReadyTimeout: inputs.waitForReadyTimeout ?? "20m",
    };
}

export const environment: ResourceModule = {
    type: "aws:elasticbeanstalk/environment:Environment",
    forceNew: ENVIRONMENT_FORCE_NEW,
    create(op, inputs) {
        const region = regionOf(op, inputs);
        const type = "aws:elasticbeanstalk/environment:Environment";
        const name = required(inputs, "name", type);
        const appName = required(inputs, "application", type);
        const call = ebCall("CreateEnvironment", `Elastic Beanstalk Environment (${name})`);
        const app = applicationOf(op, region, appName, call);
        const table = op.db.table<EnvironmentRecord>(ENVIRONMENTS);
        if (Object.values(table).some((e) => e.region === region && e.name === name && e.status !== "Terminated")) throw refuse(RULES.environmentName, call, { name });
        const label = str(inputs, "version") ?? "";
        if (label && !app.versions[label]) throw refuse(RULES.versionNotFound, call, { label });
        const id = `e-${hexId(5)}`;
        const cnamePrefix = str(inputs, "cnamePrefix");
        const cname = cnamePrefix ? `${cnamePrefix}.${region}.elasticbeanstalk.com` : `${name}.eba-${hexId(4)}.${region}.elasticbeanstalk.com`;
        const record: EnvironmentRecord = { id, name, application: appName, region, status: "Ready", versionLabel: label, settings: inputs.settings ?? [], cname, updates: [] };
        table[id] = record;
        return { id, outs: environmentOutputs(inputs, record) };
    },
    read(op, id, state) {
        const record = op.db.table<EnvironmentRecord>(ENVIRONMENTS)[id];
        return record && record.status !== "Terminated" ? { ...state, ...environmentOutputs(state, record) } : undefined;
    },
    update(op, id, olds, news) {
        const record = op.db.table<EnvironmentRecord>(ENVIRONMENTS)[id];
        const call = ebCall("UpdateEnvironment", `Elastic Beanstalk Environment (${id})`);
        const label = str(news, "version") ?? "";
        const versionChanged = label !== (str(olds, "version") ?? "");
        const settingsChanged = settingsKey(news.settings) !== settingsKey(olds.settings);
        if (versionChanged && settingsChanged) throw refuse(RULES.versionAndConfiguration, call);
        if (versionChanged && label && !applicationOf(op, record.region, record.application, call).versions[label]) throw refuse(RULES.versionNotFound, call, { label });
        const update: EnvironmentUpdate = { at: new Date(op.now()).toISOString() };
        if (versionChanged) {
            update.versionLabel = label;
            record.versionLabel = label;
        }
        if (settingsChanged) {
            update.optionSettings = news.settings;
            record.settings = news.settings ?? [];
        }
        if (versionChanged || settingsChanged || news.description !== olds.description) record.updates.push(update);
        return environmentOutputs(news, record);
    },
    delete(op, id) {
        // TerminateEnvironment; the provider waits until the environment is Terminated.
        const record = op.db.table<EnvironmentRecord>(ENVIRONMENTS)[id];
        if (record) record.status = "Terminated";
    },
};

/** The solution stacks ListAvailableSolutionStacks returns, most recent first. */
export const SOLUTION_STACKS = [
    "64bit Amazon Linux 2023 v4.4.1 running Docker",
    "64bit Amazon Linux 2023 v4.4.1 running ECS",
    "64bit Amazon Linux 2023 v4.3.2 running Docker",
    "64bit Amazon Linux 2 v4.0.8 running Docker",
];

export const getSolutionStack: InvokeFn = (op, args) => {
    const region = regionOf(op, args);
    const pattern = new RegExp(required(args, "nameRegex", "aws:elasticbeanstalk/getSolutionStack"));
    const found = SOLUTION_STACKS.filter((s) => pattern.test(s));
    // The data source's own messages (internal/service/elasticbeanstalk/solution_stack_data_source.go).
    if (found.length === 0) throw new CloudError(0, "provider", "Your query returned no results. Please change your search criteria and try again.");
    if (found.length > 1 && args.mostRecent !== true) {
        throw new CloudError(0, "provider", "Your query returned more than one result. Please try a more specific search criteria, or set `most_recent` attribute to true.");
    }
    return { id: found[0], mostRecent: args.mostRecent ?? false, name: found[0], nameRegex: args.nameRegex, region };
};
