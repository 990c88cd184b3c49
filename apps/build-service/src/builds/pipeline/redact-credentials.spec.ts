import { redactCredentials } from './redact-credentials';

describe('redactCredentials', () => {
  it.each([
    ['https://user:token@git.example/app.git', 'https://***@git.example/app.git'],
    ['https://ghp_token@github.com/o/r.git', 'https://***@github.com/o/r.git'],
    ['http://u:p%40ss@127.0.0.1:3000/r', 'http://***@127.0.0.1:3000/r'],
    ['ssh://git@host.example:22/o/r.git', 'ssh://***@host.example:22/o/r.git'],
    ['failed to fetch https://a:b@h/x.git main: Command failed: git fetch -- https://a:b@h/x.git main', 'failed to fetch https://***@h/x.git main: Command failed: git fetch -- https://***@h/x.git main'],
  ])('strips the userinfo of %s', (input, expected) => {
    expect(redactCredentials(input)).toBe(expected);
  });

  it.each(['git@github.com:o/r.git', 'https://git.example/users/@me/app.git', 'https://git.example/app.git?ref=a@b', '/srv/git/app.git', 'mail ann@example.com'])('leaves %s as it is', (input) => {
    expect(redactCredentials(input)).toBe(input);
  });
});
