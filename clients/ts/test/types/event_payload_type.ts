// expect: Property 'count' does not exist on type 'ChatMessage'
import { user } from "./common.js";

user().on("message", (m) => m.count);
