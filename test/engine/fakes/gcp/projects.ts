/**
 * Service Usage: `gcp:projects/service:Service` enables an API in a project, the switch every other
 * service of the fake checks before it acts (common.ts, SERVICE_DISABLED).
 */
import { CloudError, isUnknown, type ForceNew, type Props, type ResourceModule, type Rule } from "../framework";
import { ENABLED_SERVICES, projectOf, str } from "./common";

const FILE = "google/services/resourcemanager/resource_google_project_service.go";
const FORCE_NEW: readonly ForceNew[] = [
    { field: "service", source: `${FILE}:135` },
    { field: "project", source: `${FILE}:142` },
];

export const RULES = {
    serviceName: {
        rule: "a service is named by its domain",
        error: { status: 0, code: "provider", message: "expected {service} to be a domain like serviceusage.googleapis.com" },
        source: `${FILE}:87 (validateProjectServiceService)`,
    },
} as const satisfies Record<string, Rule>;

interface EnabledService extends Props {
    project: string;
    service: string;
    state: "ENABLED";
}

export const service: ResourceModule = {
    type: "gcp:projects/service:Service",
    forceNew: FORCE_NEW,
    check(inputs) {
        const name = str(inputs, "service");
        return name !== undefined && !isUnknown(name) && !name.includes(".") ? [{ property: "service", reason: RULES.serviceName.error.message.replace("{service}", name) }] : [];
    },
    create(op, inputs) {
        const project = projectOf(op, inputs);
        const name = str(inputs, "service") ?? "";
        if (!name.includes(".")) throw CloudError.of(RULES.serviceName, { service: name });
        // Enabling an enabled service is no error: the provider adopts it (FILE, resourceGoogleProjectServiceCreate).
        const id = `${project}/${name}`;
        op.db.table<EnabledService>(ENABLED_SERVICES)[id] = { project, service: name, state: "ENABLED" };
        return { id, outs: { ...inputs, project, service: name, disableOnDestroy: inputs.disableOnDestroy ?? true } };
    },
    read(op, id, state) {
        return op.db.table(ENABLED_SERVICES)[id] ? state : undefined;
    },
    update(_op, _id, olds, news) {
        // Only disableOnDestroy and disableDependentServices can change, and they live in state only.
        return { ...olds, ...news };
    },
    delete(op, id, state) {
        // disableOnDestroy defaults to true (FILE:151); false leaves the API enabled for whatever else uses it (FILE:334).
        if (state.disableOnDestroy !== false) delete op.db.table(ENABLED_SERVICES)[id];
    },
};
