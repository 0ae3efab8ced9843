// The JavaScript test component (componentize-js): prints its arguments,
// and exits with exit(err) when one of them is "fail".
import { getArguments } from "wasi:cli/environment@0.2.12";
import { exit } from "wasi:cli/exit@0.2.12";

export const run = {
  run() {
    const args = getArguments();
    console.log(`hello from JavaScript: ${args.join(" ")}`);
    if (args.includes("fail")) {
      exit({ tag: "err" });
    }
  },
};
