// expect: but 'rooom' does not exist in type 'MessageInit<JoinRequest>'
import { user } from "./common.js";

user().join({ rooom: "lobby" });
