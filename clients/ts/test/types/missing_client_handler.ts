// expect: Property 'confirm' is missing
import { DeskAgentClient } from "@gen/tests/desk.superline.js";

new DeskAgentClient({ url: "ws://127.0.0.1:1/" }, { ping: (input) => ({ n: input.n }) });
