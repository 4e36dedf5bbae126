import { openStore } from '../../src/store/index.js';
import { tempDir } from '../helpers.js';
import { storeConformance } from './conformance.js';

storeConformance('sqlite', async () => {
  const tmp = tempDir();
  const store = await openStore({ data: tmp.dir });
  const another = () => openStore({ data: tmp.dir });
  return {
    store,
    another,
    cleanup: async () => {
      await store.close();
      tmp.remove();
    },
  };
});
