// The Node consumer: Node's resolution picks voxgrad's node entry (dawn.node).
import { train } from './train.js';

console.log(JSON.stringify(await train()));
