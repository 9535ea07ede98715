export async function run(argv: string[]): Promise<number> { console.log(JSON.stringify({ argv })); return 0 }
