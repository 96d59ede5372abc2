// expect: Type 'number' is not assignable to type 'string'
import { user } from "./common.js";

user().join({ room: 5 });
