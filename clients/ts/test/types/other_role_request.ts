// expect: Property 'send' does not exist on type 'ChatAgentClient'
import { agent } from "./common.js";

agent().send({ room: "lobby", text: "agents do not send" });
