/**
 * Evaluates the program once under mocks with every target configured, and prints the time from
 * process start to the resolved exports. Run by bench/program.sh in each loading mode.
 */
import { runProgram } from "../test/mocks";

const ALL = {
    targets: ["local", "heroku", "aws-ecs", "aws-beanstalk", "gcp-cloudrun"],
    "aws:region": "eu-west-1",
    "gcp:project": "bench-project",
    "gcp:region": "europe-west1",
    herokuApiKey: "bench-key",
};

async function main(): Promise<void> {
    const run = await runProgram(ALL);
    const ms = performance.now();
    console.log(JSON.stringify({ ms: Math.round(ms), resources: run.mocks.resources.length, rssMb: Math.round(process.memoryUsage().rss / 1e6) }));
}

main().catch((err) => {
    console.error(err);
    process.exit(1);
});
