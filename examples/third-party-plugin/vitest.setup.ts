// tfjs needs a backend for the tests: the cpu one, in the copy of tfjs-core that @modnas/core uses
import '@tensorflow/tfjs-backend-cpu';
import { tf } from '@modnas/core';

await tf.setBackend('cpu');
