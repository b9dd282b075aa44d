/* Hostile strings: every place a crash carries text holds something a terminal or a markup
 * parser would act on. Hydra shows all of it literally: [bold]not bold[/bold], [@click=app.quit]q[/],
 * an ESC ]0;title BEL, an OSC 52 clipboard write, a right-to-left override (‮txet desrever‬),
 * CJK (価格, 在庫) and lines indented with tabs, kernel style. */
#include <string.h>
#include <sys/prctl.h>

struct 商品 {
	char label[48];		/* tab-aligned comment */
	const char *note;
	const char *clipboard;
	int 価格[3];
};

static int explode(struct 商品 *item, int i)
{
	int *nothing = 0;	/* [red]alarm[/red] */
	const char *bidi = "\u202eexe.txt";
	return item->価格[i] + *nothing + (bidi[0] == 0);
}

int main(void)
{
	struct 商品 item;
	strcpy(item.label, "[red]alarm[/red]\033]0;pwned\007\033[2J");
	item.note = "[@click=app.quit]quit[/] [$accent]x[/] 在庫切れ";
	item.clipboard = "\033]52;c;cm0gLXJmIH4=\007";
	item.価格[0] = 1; item.価格[1] = 2; item.価格[2] = 3;
	prctl(PR_SET_NAME, "[b]x\033[31m\t", 0, 0, 0);
	return explode(&item, 1);
}
