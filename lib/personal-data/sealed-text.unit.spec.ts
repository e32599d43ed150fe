import t from 'tap';
import { sealedFromText, sealedToText } from './sealed-text.ts';

t.test('a sealed value survives the trip through its text form', async (t) => {
  const sealed = { key_id: '5f0c6c1e-3a41-4a49-9a1b-2f1d8c0e7b11', alg: 'A256GCM' as const, iv: 'q3l1Zk9+/w==', ciphertext: 'AbC+/dEf==', tag: 'dGFnLXRhZy10YWc=' };
  const text = sealedToText(sealed);
  t.notMatch(text, /["\\]/, 'nothing a SQL string needs to escape');
  t.same(sealedFromText(text), sealed);
  t.same(sealedFromText(sealedToText({ ...sealed, ciphertext: '' })).ciphertext, '', 'an empty plaintext seals to an empty ciphertext');
});

t.test('text that is not a sealed value is refused', async (t) => {
  for (const text of ['', 'A256GCM.k.iv.tag', 'AES.k.iv.tag.ct', 'A256GCM..iv.tag.ct', 'A256GCM.k.iv.tag.ct.extra']) {
    t.throws(() => sealedFromText(text), /not a sealed value/, JSON.stringify(text));
  }
});
