/**
 * The program tests evaluate the program again and again, each time loading index.ts afresh (see
 * clearProgramModules in mocks.ts), and ts-node would transpile it each time. This keeps each
 * file's JavaScript for as long as its source is unchanged, so a file is transpiled once per test
 * process (mutation testing, where every file carries all its mutants, gains the most).
 */
interface Compiler {
    compile(code: string, fileName: string, lineOffset?: number): string;
}

const instance = (process as unknown as Record<symbol, Compiler | undefined>)[Symbol.for("ts-node.register.instance")];
if (!instance) throw new Error("test/compileCache.ts must be loaded after ts-node/register");
const compile = instance.compile.bind(instance);
const outputs = new Map<string, string>();
instance.compile = (code, fileName, lineOffset) => {
    const key = `${fileName}\0${lineOffset ?? 0}\0${code}`;
    let output = outputs.get(key);
    if (output === undefined) {
        output = compile(code, fileName, lineOffset);
        outputs.set(key, output);
    }
    return output;
};
