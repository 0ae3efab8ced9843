// The JavaScript test component (componentize-js): prints its arguments,
// then exits with exit(err) when one of them is "fail", or with
// exit-with-code(N) when they end in "exit N".
import { getArguments } from "wasi:cli/environment@0.2.12";
import { exit, exitWithCode } from "wasi:cli/exit@0.2.12";

export const run = {
  run() {
    const args = getArguments();
    console.log(`hello from JavaScript: ${args.join(" ")}`);
    if (args.includes("fail")) {
      exit({ tag: "err" });
    }
    if (args.length >= 2 && args[args.length - 2] === "exit") {
      exitWithCode(Number(args[args.length - 1]));
    }
  },
};
