/**
 * The most common leaked passwords (public top-lists: SecLists, NCSC 100k, breach corpora), lower-cased.
 * A password equal to one of these, or one of these with leetspeak undone and a few digits or
 * symbols appended, is guessed in the first seconds of any online attack.
 */
export const COMMON_PASSWORDS: ReadonlySet<string> = new Set([
  '123456', 'password', '12345678', 'qwerty', '123456789', '12345', '1234', '111111', '1234567', 'dragon', '123123',
  'baseball', 'abc123', 'football', 'monkey', 'letmein', '696969', 'shadow', 'master', '666666', 'qwertyuiop',
  '123321', 'mustang', '1234567890', 'michael', '654321', 'superman', '1qaz2wsx', '7777777', '121212', '000000',
  'qazwsx', '123qwe', 'killer', 'trustno1', 'jordan', 'jennifer', 'zxcvbnm', 'asdfgh', 'hunter', 'buster', 'soccer',
  'harley', 'batman', 'andrew', 'tigger', 'sunshine', 'iloveyou', '2000', 'charlie', 'robert', 'thomas', 'hockey',
  'ranger', 'daniel', 'starwars', 'klaster', '112233', 'george', 'computer', 'michelle', 'jessica', 'pepper', '1111',
  'zxcvbn', '555555', '11111111', '131313', 'freedom', '777777', 'pass', 'maggie', '159753', 'aaaaaa', 'ginger',
  'princess', 'joshua', 'cheese', 'amanda', 'summer', 'love', 'ashley', 'nicole', 'chelsea', 'biteme', 'matthew',
  'access', 'yankees', '987654321', 'dallas', 'austin', 'thunder', 'taylor', 'matrix', 'mobilemail', 'mom',
  'monitor', 'monitoring', 'montana', 'moon', 'moscow', 'william', 'welcome', 'welcome1', 'password1', 'password123',
  'passw0rd', 'p@ssw0rd', 'p@ssword', 'admin', 'admin123', 'administrator', 'root', 'toor', 'changeme', 'default',
  'guest', 'login', 'qwerty123', 'qwe123', '1q2w3e4r', '1q2w3e', '1q2w3e4r5t', 'zaq12wsx', 'qwertyui', 'asdfghjkl',
  'asdf1234', 'letmein1', 'abc12345', 'abcd1234', 'iloveyou1', 'hello', 'hello123', 'secret', 'secret123', 'test',
  'test123', 'testing', 'user', 'demo', 'sample', 'changeit', 'oracle', 'mysql', 'postgres', 'cisco', 'apple',
  'samsung', 'google', 'facebook', 'linkedin', 'twitter', 'microsoft', 'windows', 'linux', 'ubuntu', 'server',
  'internet', 'whatever', 'nothing', 'forever', 'lovely', 'angel', 'angels', 'flower', 'flowers', 'purple', 'orange',
  'banana', 'cookie', 'chocolate', 'butterfly', 'hannah', 'jasmine', 'lauren', 'madison', 'olivia', 'sophie',
  'emily', 'jessica1', 'ashley1', 'michael1', 'daniel1', 'jordan23', 'lakers', 'liverpool', 'arsenal', 'chelsea1',
  'barcelona', 'realmadrid', 'football1', 'baseball1', 'soccer1', 'hockey1', 'golf', 'tennis', 'yamaha', 'ferrari',
  'porsche', 'mercedes', 'corvette', 'bandit', 'blink182', 'metallica', 'slipknot', 'nirvana', 'eminem', 'pokemon',
  'naruto', 'minecraft', 'fortnite', 'roblox', 'warcraft', 'starcraft', 'diablo', 'zelda', 'mario', 'sonic',
  'superman1', 'batman1', 'spiderman', 'ironman', 'hulk', 'marvel', 'matrix1', 'trinity', 'neo', 'morpheus', '11111',
  '22222', '33333', '44444', '55555', '123654', '147258369', '159357', '741852963', '102030', '010203', '1122334455',
  '12341234', '123123123', '1234qwer', 'qwer1234', 'q1w2e3r4', 'azerty', 'azertyuiop', 'qwertz', '1qazxsw2',
  '!qaz2wsx', 'qazwsxedc', '1qaz@wsx', 'passpass', 'password12', 'password1234', 'pa55word', 'pa55w0rd',
  'letmein123', 'welcome123', 'admin1', 'admin1234', 'root123', 'summer2024', 'winter2024', 'spring2024',
  'autumn2024', 'summer2025', 'winter2025', 'spring2025', 'summer2026', 'winter2026', 'january', 'february', 'march',
  'april', 'may', 'june', 'july', 'august', 'september', 'october', 'november', 'december', 'monday', 'friday',
  'sunday', 'secret1', 'mypassword', 'mypass', '987654', '9876543210', '888888', '999999', '7654321', '88888888',
  '123abc', 'abcdef', 'abcdefg', 'abcdefgh', 'aaaaaaaa', 'zzzzzz', 'qqqqqq', 'xxxxxx', 'killer1', 'shadow1',
  'master1', 'dragon1', 'monkey1', 'qwerty1', 'charlie1', 'sunshine1', 'princess1', 'password!', 'password@',
  'iloveu', 'loveme', 'lovelove', 'babygirl', 'baby', 'daddy', 'mommy', 'family', 'friends',
]);
