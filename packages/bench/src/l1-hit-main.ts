import { table } from "./harness.js"
import { run } from "./l1-hit.js"

console.log("l1-hit bench")
run().then((results) => console.log(table(results, "Map.get")), (error) => console.error("failed", error))
