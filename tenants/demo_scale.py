"""Demo data at scale: ``renda demo --scale N`` adds N deputy suggestions to the demo's counties, in every
workflow state with their deputies, assignments, replies, evaluations and timelines, inserted in bulk.

Each suggestion is planned as the list of steps a person would have taken, on plausible days before today,
then replayed through the workflow table, so its row, its assignments and its timeline agree as if the
services had written them. Numbers run without gaps per series, continuing the series' counters.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import Counter, defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from sqlalchemy import Table, insert, select, update
from sqlalchemy.orm import Session

from renda.platform import audit
from renda.platform.access.policy import Principal
from renda.platform.db import Database, Scope
from renda.platform.deadlines import add_months
from renda.platform.identity.models import Grant, User
from renda.platform.identity.service import create_user, grant_role
from renda.platform.tenancy.models import HandlingUnit, OrgUnit, Tenant
from renda.platform.tenancy.service import create_handling_unit, get_tenant_by_slug
from renda.platform.tenancy.settings import get_setting
from renda.platform.timeline import TimelineEvent
from renda.tenants.demo import ACCOUNTS, COUNTIES, HANDLING_UNITS, StepProgress, load_demo
from renda.tenants.deputies.models import Deputy, DeputyStation
from renda.tenants.suggestions import workflow
from renda.tenants.suggestions.models import Assignment, Commitment, Cosigner, Reply, SeriesCounter, Suggestion
from renda.tenants.suggestions.service import SUBJECT, series_of
from renda.tenants.suggestions.workflow import Action, State

TERM = 17  # the county congresses elected in 2021 (第十七届); their sessions are the last five years
POOL_SIZE = 100  # deputies per county
BATCH = 5000
HEAVY = {"tiandong": 30, "pingguo": 22}  # percent of the suggestions; the other counties share the rest
STATE_WEIGHTS = {State.DRAFT: 2, State.SUBMITTED: 3, State.RETURNED: 1, State.REFERENCE: 3, State.ACCEPTED: 3,
                 State.ASSIGNED: 12, State.REASSIGN_REQUESTED: 1, State.REPLIED: 6, State.EVALUATED: 8,
                 State.REHANDLING: 2, State.CLOSED: 59, State.DISCARDED: 1}
COLOUR_WEIGHTS = {"red": 25, "yellow": 15, "green": 60}  # of suggestions with a running deadline
CST = dt.timezone(dt.timedelta(hours=8))

SURNAMES = "黄韦陆覃蒙农莫梁李罗潘卢黎陈王张刘杨赵周吴廖谭凌岑班马邓何唐苏冯劳滕闭麻零宁"
MALE = "志建国明华文永德海振春东伟强军平光福荣成林斌忠胜宏刚勇峰毅杰良才"
FEMALE = "秀丽桂红梅芳英兰萍燕玲霞艳娟琼凤敏婷慧莉月雪玉金莲"
ETHNICITIES = (("壮族", 70), ("汉族", 20), ("瑶族", 6), ("苗族", 2), ("彝族", 1), ("仡佬族", 1))
GROUPS = ("法制", "财政经济", "教育科学文化卫生", "农业农村", "城乡建设环境保护", "社会建设")
VILLAGE_HEADS, VILLAGE_TAILS = "那板坡百六弄念巴岜陇定龙", "合吉马平桑洪造林兰茶怀良蒙立"
RIVERS = {"tiandong": ("右江", "龙须河"), "youjiang": ("右江", "澄碧河"), "lingyun": ("澄碧河",),
          "xilin": ("驮娘江", "西洋江"), "tianlin": ("驮娘江", "乐里河"), "leye": ("布柳河",), "longlin": ("南盘江",),
          "debao": ("鉴河",), "napo": ("百都河",), "jingxi": ("难滩河",)}  # the others lie on the Youjiang
PRODUCTS = {"tiandong": "芒果", "tianyang": "番茄", "pingguo": "火龙果", "jingxi": "香糯", "lingyun": "白毫茶",
            "leye": "猕猴桃", "xilin": "砂糖橘", "longlin": "黑猪", "napo": "八角", "debao": "脐橙",
            "tianlin": "八渡笋", "youjiang": "芒果", "longan": "香蕉"}


class Issue(NamedTuple):
    title: str
    problem: str
    proposals: tuple[str, str]


class Topic(NamedTuple):
    category: str
    weight: int
    lead: str  # handling unit, by the name after the county's ("教育局")
    co: tuple[str, ...]
    issues: tuple[Issue, ...]
    general: tuple[str, ...]  # proposals that fit every issue of the topic


TOPICS = (
    Topic("交通运输", 18, "交通运输局", ("发展和改革局", "住房和城乡建设局"), (
        Issue("关于加快{town}至{village}道路硬化建设的建议",
              "{village}通村道路仍是砂石路面，路窄坑多，雨天泥泞难行，群众出行和农产品外运十分不便",
              ("将该路段列入年度农村公路建设计划", "按四级公路标准实施硬化并加装安保设施")),
        Issue("关于改造{village}危桥的建议",
              "{village}村口的桥梁建于上世纪八十年代，桥面开裂、护栏缺损，每天仍有大量车辆和学生通行",
              ("尽快组织危桥鉴定并实施加固或重建", "施工期间设置警示标志并修建临时便道")),
        Issue("关于增开{town}至县城农村客运班线的建议",
              "{town}距县城较远，每天仅有两趟班车，群众就医、上学、赶集出行难",
              ("优化农村客运线路，增加班次", "推进城乡公交一体化，落实农村客运运营补贴")),
        Issue("关于完善{town}集镇交通安全设施的建议",
              "{town}集镇街道人车混行，缺少信号灯、斑马线和减速带，交通事故时有发生",
              ("在学校、集市路段增设信号灯、减速带和人行横道", "加强集镇交通秩序管理，整治占道经营")),
    ), ("积极争取上级交通专项资金，以奖代补推进建设", "落实县乡村三级路长制，明确养护责任和经费")),
    Topic("教育", 14, "教育局", ("住房和城乡建设局", "发展和改革局"), (
        Issue("关于改善{town}中心小学办学条件的建议",
              "{town}中心小学教学楼年久失修，功能室不足，部分班级超过五十五人",
              ("将该校列入薄弱学校改造计划", "新建综合楼并配齐实验室、图书室等功能室")),
        Issue("关于解决{town}乡村教师周转宿舍不足问题的建议",
              "{town}乡村教师周转宿舍数量不足、设施陈旧，年轻教师只能在校外租房，队伍不稳定",
              ("统筹建设乡村教师周转宿舍，完善水电等配套设施", "加大对乡村教师生活补助的倾斜力度")),
        Issue("关于增加{town}公办幼儿园学位的建议",
              "{town}集镇适龄幼儿逐年增加，公办幼儿园学位紧张，家长只能选择收费较高的民办园",
              ("新建或扩建{town}中心幼儿园", "支持村级幼儿园建设，增加普惠性学位")),
        Issue("关于加强{town}农村寄宿制学校管理的建议",
              "{town}寄宿制学校生活教师配备不足，学生食堂和宿舍条件有待改善，留守儿童心理关爱缺位",
              ("按标准配齐寄宿制学校生活教师和心理健康教师", "改造学生食堂和宿舍，改善住宿条件")),
    ), ("将所需资金纳入年度教育经费预算", "加强督导检查，确保各项措施落到实处")),
    Topic("水利与饮水安全", 12, "农业农村局", ("住房和城乡建设局", "生态环境局"), (
        Issue("关于解决{village}群众饮水困难的建议",
              "{village}饮水工程建于十多年前，水源不稳定，旱季经常断水，群众要到几公里外挑水",
              ("新建或改造水源工程，铺设供水管网入户", "旱季临时组织送水，保障群众基本生活用水")),
        Issue("关于修复{town}灌溉水渠的建议",
              "{town}主干灌溉渠年久失修，渗漏淤塞严重，影响周边上千亩农田灌溉",
              ("将该水渠纳入高标准农田建设项目统一改造", "组织清淤并对渗漏渠段进行三面光硬化")),
        Issue("关于加快{town}农村供水工程提质增效的建议",
              "{town}部分村屯供水管网老化，水质检测不及时，群众对饮水安全有顾虑",
              ("更新改造老化供水管网并配套消毒设备", "定期开展水质检测并向群众公开结果")),
        Issue("关于加强{river}{town}段河道治理的建议",
              "{river}{town}段河道淤积，汛期容易漫堤，威胁沿岸群众生命财产安全",
              ("实施河道清淤疏浚和堤防加固工程", "完善汛期监测预警和群众转移预案")),
    ), ("积极争取上级水利专项资金支持", "建立工程运行管护机制，落实管护经费和责任人")),
    Topic("医疗卫生", 10, "卫生健康局", ("人力资源和社会保障局", "发展和改革局"), (
        Issue("关于提升{town}卫生院医疗服务能力的建议",
              "{town}卫生院缺少CT等必要设备，专业技术人员不足，群众看病要到县城或市里",
              ("加大对{town}卫生院的设备投入", "组织县级医院专家定期到{town}卫生院坐诊带教")),
        Issue("关于提高{town}村医待遇、稳定村医队伍的建议",
              "村医收入偏低、养老保障不足，年轻人不愿当村医，{town}村医队伍老龄化严重",
              ("提高村医补助标准，落实养老保险政策", "定向培养本地村医，落实乡村一体化管理")),
        Issue("关于加强{town}慢性病患者健康管理的建议",
              "{town}高血压、糖尿病患者多，随访管理不到位，用药不规范",
              ("发挥家庭医生签约服务作用，做实随访管理", "将常用慢性病药品纳入门诊统筹报销范围")),
        Issue("关于完善{town}院前急救网络的建议",
              "{town}距县人民医院较远，急救车辆不足，急救响应时间长",
              ("在{town}设立急救站点并配备急救车辆", "加强乡镇卫生院急救人员培训")),
    ), ("推进县域医共体建设，促进优质医疗资源下沉", "将所需经费纳入年度卫生健康预算")),
    Topic("乡村振兴", 16, "农业农村局", ("发展和改革局", "人力资源和社会保障局"), (
        Issue("关于扶持{town}{product}产业做大做强的建议",
              "{town}{product}种植面积逐年扩大，但品种老化、标准化程度低，销售依赖中间商，价格波动大",
              ("设立产业发展专项资金，推广优良品种和标准化种植技术", "加强电商平台建设，打响{product}地理标志品牌")),
        Issue("关于完善{town}农产品冷链物流设施的建议",
              "{town}{product}等农产品采摘后缺少预冷和冷藏设施，损耗率高，外销半径受限",
              ("支持建设产地冷藏保鲜设施", "引进物流企业，完善县乡村三级物流体系")),
        Issue("关于巩固{town}脱贫攻坚成果、防止返贫的建议",
              "{town}部分脱贫户收入来源单一，因病因灾返贫风险依然存在",
              ("健全防止返贫动态监测和帮扶机制", "加大产业和就业帮扶力度，稳定脱贫户收入")),
        Issue("关于发展壮大{village}集体经济的建议",
              "{village}集体经济收入来源少，缺乏稳定的经营性收入项目",
              ("盘活闲置资产资源，发展光伏、物业等集体经济项目", "选派懂经营的干部驻村指导")),
    ), ("统筹衔接推进乡村振兴补助资金予以支持", "加强部门协作，形成工作合力")),
    Topic("生态环境", 8, "生态环境局", ("住房和城乡建设局", "农业农村局"), (
        Issue("关于加强{river}{town}段水污染防治的建议",
              "{river}{town}段沿岸部分养殖场和小作坊废水直排，河水发黑发臭，影响下游群众用水",
              ("开展沿岸排污口排查整治", "依法查处违法排污行为并向社会公开")),
        Issue("关于整治{town}石材加工粉尘污染的建议",
              "{town}周边石材加工点粉尘、噪声扰民，群众反映强烈",
              ("督促企业安装除尘降噪设施", "规范作业时间，对整改不到位的依法关停")),
        Issue("关于建设{town}垃圾转运站的建议",
              "{town}垃圾收运能力不足，集镇垃圾不能及时清运，存在二次污染",
              ("新建垃圾转运站，配备压缩转运车辆", "建立村收集、镇转运、县处理的收运体系")),
        Issue("关于加强{village}畜禽养殖污染治理的建议",
              "{village}附近规模养殖场粪污处理设施不完善，臭味影响周边村屯",
              ("督促养殖场完善粪污处理设施", "推广种养结合，支持粪污资源化利用")),
    ), ("建立乡镇生态环境网格化监管机制", "加强环保执法检查和群众监督")),
    Topic("就业和社会保障", 8, "人力资源和社会保障局", ("发展和改革局", "卫生健康局"), (
        Issue("关于加强{town}农民工职业技能培训的建议",
              "{town}外出务工人员多，但技能单一，大多从事低收入的体力劳动",
              ("结合产业需求开展订单式、定向式技能培训", "落实培训补贴，方便群众就近参加培训")),
        Issue("关于规范{town}农民工工资支付保障的建议",
              "部分工程项目拖欠农民工工资，{town}群众讨薪难",
              ("全面落实工资专户和保证金制度", "加大欠薪查处力度，畅通维权渠道")),
        Issue("关于在{town}建设就业帮扶车间的建议",
              "{town}留守妇女和中老年劳动力多，就近就业岗位少",
              ("引进劳动密集型企业，建设就业帮扶车间", "对吸纳脱贫劳动力就业的车间给予奖补")),
    ), ("加强政策宣传，让群众知晓并用好各项政策", "将所需资金纳入年度预算")),
    Topic("城乡建设", 10, "住房和城乡建设局", ("发展和改革局", "交通运输局"), (
        Issue("关于推进{town}老旧小区改造的建议",
              "{town}老旧小区房屋老化、管网破损，缺少停车位和活动场所",
              ("将该小区纳入年度老旧小区改造计划", "同步完善停车、照明和活动场所等配套设施")),
        Issue("关于解决{town}集镇排水不畅问题的建议",
              "{town}集镇排水管网建设滞后，一到雨季街道积水严重，影响商户经营和群众出行",
              ("实施集镇雨污分流和排水管网改造", "汛前组织疏通排水沟渠")),
        Issue("关于完善{town}集镇路灯照明的建议",
              "{town}集镇部分路段没有路灯，夜间出行存在安全隐患",
              ("分批安装太阳能路灯", "明确路灯维护责任和经费")),
        Issue("关于加快{village}农村危房改造的建议",
              "{village}仍有部分群众居住在危旧房中，自身改造能力弱",
              ("开展危房排查鉴定，应改尽改", "提高农村危房改造补助标准")),
    ), ("积极争取上级城建专项资金支持", "加强项目质量和进度监管")),
    Topic("法治建设", 4, "人民法院", ("人民检察院",), (
        Issue("关于加强{town}农村法治宣传教育的建议",
              "{town}群众法律意识有待提高，遇到纠纷往往不知道如何依法维权",
              ("组织法官、检察官定期进村开展以案释法", "培养村级“法律明白人”")),
        Issue("关于推进巡回审判进{town}村屯的建议",
              "{town}距县城较远，群众到法院诉讼往返不便",
              ("在{town}设立巡回审判点", "推广在线诉讼服务，方便群众立案")),
        Issue("关于加大{town}涉农纠纷多元化解力度的建议",
              "土地承包、山林权属等涉农纠纷多发，{town}调解力量不足",
              ("健全人民调解、行政调解、司法调解联动机制", "加强基层调解员培训")),
    ), ("加强与乡镇和村委会的工作衔接", "将工作经费纳入年度预算")),
)
NUMERALS = "一二三四五"
REPLIES = {
    "A": "您提出的《{title}》收悉。我单位高度重视，经实地调研并会同有关部门研究，所提问题已基本解决：{done}。"
         "感谢您对{county}工作的关心和支持。",
    "B": "您提出的《{title}》收悉。经研究，所提事项已列入工作计划，正在推进：{done}。我们将加快实施，"
         "按期向您报告进展。",
    "C": "您提出的《{title}》收悉。所提问题确实存在，但受资金和规划等条件限制，目前暂不具备解决条件。"
         "我们将积极争取上级支持，条件成熟后统筹解决。",
}
RETURN_NOTES = ("建议所提问题的具体位置和群众诉求不够明确，请补充后重新提交。",
                "一件建议只宜提一个事项，请拆分后重新提交。")
REFERENCE_NOTES = ("所提内容属于个案诉求，转作参阅件供有关部门参考。", "所提事项已有明确政策规定，作为参阅件处理。")
CONTACTS = (("visit", "办理人员到{town}实地查看，与代表当面交流办理思路。"),
            ("phone", "电话联系代表，了解具体诉求和期望。"),
            ("meeting", "召开座谈会，邀请代表和有关部门共同研究解决办法。"))
CO_OPINION = "我单位同意主办单位的办理意见，将在职责范围内配合做好相关工作。"
REASSIGN_REASON = "该建议所提事项主要属于其他部门的职责，申请调整交办。"
DISSATISFIED = "答复内容较为笼统，没有提出解决问题的具体措施和时限，请重新办理。"


@dataclass(frozen=True)
class ScaleSummary:
    suggestions: int
    by_tenant: dict[str, int]
    by_state: dict[str, int]
    deputies_created: int
    today: dt.date


@dataclass(frozen=True)
class _Town:
    id: int
    name: str
    villages: tuple[str, ...]
    station_id: int | None


class _Deputy(NamedTuple):
    id: int
    user_id: int | None
    town: int  # index into the county's towns


@dataclass
class _County:
    id: int
    slug: str
    name: str
    root_id: int
    towns: list[_Town]
    units: dict[str, int]  # by the name after the county's, e.g. "教育局"
    handlers: dict[int, int]  # handling unit id -> a handler's user id
    staff_user: int
    leader_user: int
    months: int
    hard_months: int
    rehandle_months: int
    deputies: list[_Deputy] = field(default_factory=list)


@dataclass(frozen=True)
class _Clock:
    today: dt.date
    sessions: tuple[dt.date, ...]  # session k of the term on sessions[k - 1]

    @property
    def last(self) -> dt.date:
        return self.today - dt.timedelta(days=1)  # the last day a step may fall on

    @classmethod
    def of(cls, today: dt.date) -> _Clock:
        """A session each February, the latest at least two months before today."""
        year = today.year if today >= dt.date(today.year, 4, 25) else today.year - 1
        return cls(today, tuple(dt.date(year - 5 + k, 2, 16 + 2 * k) for k in range(1, 6)))


Step = tuple[str, dt.date, dict[str, Any]]


def _days(n: int) -> dt.timedelta:
    return dt.timedelta(days=n)


def _allocate(weights: dict[Any, int], n: int) -> list[Any]:
    """``n`` items in proportion to ``weights`` (largest remainder); each weight gets one when n allows."""
    total = sum(weights.values())
    counts = {k: n * w // total for k, w in weights.items()}
    for k in sorted(weights, key=lambda k: -(n * weights[k] % total))[: n - sum(counts.values())]:
        counts[k] += 1
    if n >= len(weights):
        for k in weights:
            while counts[k] == 0:
                donor = max(counts, key=lambda d: counts[d])
                counts[donor], counts[k] = counts[donor] - 1, 1
    return [k for k, c in counts.items() for _ in range(c)]


def generate(db: Database, n: int, *, seed: int = 0, progress: StepProgress | None = None,
             today: dt.date | None = None) -> ScaleSummary:
    """Add ``n`` suggestions to the demo (loaded first when missing), in one transaction."""
    load_demo(db)
    today = today or dt.date.today()
    rng = random.Random(seed)  # noqa: S311 - demo data, not secrets
    clock = _Clock.of(today)
    with db.session(Scope.system(), write=True) as session:
        if progress:
            progress(0, n, "代表 deputies")
        counties, created = _counties(session, rng)
        plans = _plan_all(counties, n, rng, clock)
        by_state: Counter[str] = Counter()
        for done, batch in _insert_batches(session, plans, clock):
            by_state.update(batch)
            if progress:
                progress(done, n, "建议 suggestions")
        by_tenant = Counter(p.county.slug for p in plans)
        operator = _operator(session)
        for county in counties:
            if by_tenant[county.slug]:
                audit.record(session, tenant_id=county.id, actor_id=operator.user_id, action="suggestion.generate",
                             object_type="suggestions", after={"count": by_tenant[county.slug], "seed": seed,
                                                               "today": today.isoformat()})
    return ScaleSummary(n, dict(by_tenant.most_common()), {s.value: by_state[s.value] for s in State}, created, today)


# -- the people and places --------------------------------------------------------------------------

def _operator(session: Session) -> Principal:
    spec = ACCOUNTS[0]
    user = session.scalars(select(User).where(User.username == spec.username)).one()
    return Principal(user_id=user.id, username=user.username, display_name=user.display_name,
                     is_platform_admin=True, scope=Scope.system())


def _name(rng: random.Random, female: bool) -> str:
    given = FEMALE if female else MALE
    return rng.choice(SURNAMES) + "".join(rng.choice(given) for _ in range(rng.choice((1, 2, 2, 2))))


def _villages(rng: random.Random, names: list[str]) -> tuple[str, ...]:
    cleaned = [v.replace("村民委员会", "村").replace("村委会", "村").replace("社区居民委员会", "社区")
               .replace("社区居委会", "社区") for v in names]
    if cleaned:
        return tuple(cleaned)
    return tuple(sorted({rng.choice(VILLAGE_HEADS) + rng.choice(VILLAGE_TAILS) + "村" for _ in range(8)}))


def _counties(session: Session, rng: random.Random) -> tuple[list[_County], int]:
    """The demo's counties with what suggestions need: towns, handling units, a leader and a pool of deputies."""
    operator = _operator(session)
    counties, created = [], 0
    for spec in COUNTIES:
        tenant = get_tenant_by_slug(session, spec.slug)
        assert tenant is not None and tenant.root_org_unit_id is not None
        counties.append(_county(session, operator, tenant, rng))
    for county in counties:
        created += _deputy_pool(session, county, rng)
    return counties, created


def _county(session: Session, operator: Principal, tenant: Tenant, rng: random.Random) -> _County:
    nodes = session.execute(select(OrgUnit.id, OrgUnit.parent_id, OrgUnit.kind, OrgUnit.name)
                            .where(OrgUnit.tenant_id == tenant.id, OrgUnit.retired_at.is_(None))
                            .order_by(OrgUnit.id)).all()
    villages: dict[int | None, list[str]] = defaultdict(list)
    stations: dict[int | None, int] = {}
    for node_id, parent_id, kind, name in nodes:
        if kind == "village":
            villages[parent_id].append(name)
        elif kind == "station":
            stations.setdefault(parent_id, node_id)
    towns = [_Town(i, name, _villages(rng, villages[i]), stations.get(i)) for i, _, kind, name in nodes
             if kind == "township" and name.endswith(("镇", "乡", "街道"))]
    if not session.scalars(select(HandlingUnit.id).where(HandlingUnit.tenant_id == tenant.id)).first():
        for suffix, _, category in HANDLING_UNITS:  # counties the demo gave no units to
            create_handling_unit(session, operator, tenant, name=tenant.name + suffix, category=category)
    units = {name.removeprefix(tenant.name): i for i, name in session.execute(
        select(HandlingUnit.id, HandlingUnit.name).where(HandlingUnit.tenant_id == tenant.id,
                                                         HandlingUnit.retired_at.is_(None)))}
    grants = session.execute(select(Grant.role, Grant.user_id, Grant.org_unit_id, Grant.handling_unit_id)
                              .where(Grant.tenant_id == tenant.id).order_by(Grant.id)).all()
    handlers = {u: user for role, user, _, u in grants if role == "handler" and u is not None}
    staff = [user for role, user, node, _ in grants if role == "congress_admin" and node == tenant.root_org_unit_id]
    leaders = [user for role, user, _, _ in grants if role == "congress_leader"]
    if not leaders:  # key suggestions need a leader of this congress to supervise them
        username = f"{tenant.slug}.leader"
        if session.scalars(select(User.id).where(User.username == username)).first() is None:
            leader = create_user(session, None, tenant, username=username, display_name=_name(rng, False),
                                 password=None)
            grant_role(session, None, tenant, leader, role="congress_leader", org_unit_id=tenant.root_org_unit_id)
            leaders = [leader.id]
    assert tenant.root_org_unit_id is not None
    return _County(tenant.id, tenant.slug, tenant.name, tenant.root_org_unit_id, towns, units, handlers,
                   staff[0] if staff else operator.user_id, leaders[0] if leaders else operator.user_id,
                   int(get_setting(session, tenant.id, "suggestion_deadline_months")),
                   int(get_setting(session, tenant.id, "suggestion_hard_deadline_months")),
                   int(get_setting(session, tenant.id, "rehandle_deadline_months")))


def _deputy_pool(session: Session, county: _County, rng: random.Random) -> int:
    """Reuse the county's deputies of this term; add fictional ones up to POOL_SIZE, and records for the
    demo's deputy accounts so that they find suggestions of their own."""
    town_of = {t.id: i for i, t in enumerate(county.towns)}
    station_town = {t.station_id: i for i, t in enumerate(county.towns) if t.station_id}
    existing = session.execute(select(Deputy.id, Deputy.user_id, Deputy.org_unit_id).where(
        Deputy.tenant_id == county.id, Deputy.term == TERM, Deputy.active.is_(True)).order_by(Deputy.id)).all()
    linked = {user for _, user, _ in existing if user}
    accounts = session.execute(select(Grant.user_id, Grant.org_unit_id, User.display_name)
                               .join(User, User.id == Grant.user_id)
                               .where(Grant.tenant_id == county.id, Grant.role == "deputy")).all()
    rows: list[dict[str, Any]] = []
    for user_id, node, name in accounts:
        if user_id not in linked:
            linked.add(user_id)
            town = station_town.get(node or 0, 0)
            rows.append(_deputy_row(county, rng, len(existing) + len(rows), town, name, user_id))
    while len(existing) + len(rows) < POOL_SIZE:
        rows.append(_deputy_row(county, rng, len(existing) + len(rows), rng.randrange(len(county.towns)), None, None))
    ids = _insert(session, Deputy.__table__, rows, returning=True)
    _insert(session, DeputyStation.__table__, [
        {"tenant_id": county.id, "deputy_id": i, "org_unit_id": county.towns[row["_town"]].station_id}
        for i, row in zip(ids, rows, strict=True) if county.towns[row["_town"]].station_id])
    county.deputies = [_Deputy(i, user, town_of.get(node, 0)) for i, user, node in existing]
    county.deputies += [_Deputy(i, row["user_id"], row["_town"]) for i, row in zip(ids, rows, strict=True)]
    return len(rows)


def _deputy_row(county: _County, rng: random.Random, k: int, town: int, name: str | None,
                user_id: int | None) -> dict[str, Any]:
    female = rng.random() < 0.3
    place = county.towns[town].name
    now = dt.datetime.now(dt.UTC)
    return {
        "tenant_id": county.id, "name": name or _name(rng, female), "gender": "female" if female else "male",
        "ethnicity": rng.choices([e for e, _ in ETHNICITIES], [w for _, w in ETHNICITIES])[0],
        "birth_date": dt.date(rng.randint(1962, 1994), rng.randint(1, 12), rng.randint(1, 28)), "level": "county",
        "term": TERM, "electoral_unit": f"{place}第{rng.randint(1, 6)}选区", "delegation": f"{place}代表团",
        "professional_group": f"{rng.choice(GROUPS)}专业小组", "org_unit_id": county.towns[town].id, "phone": "",
        "email": "", "id_code": f"S{TERM}-{k + 1:04d}", "user_id": user_id, "active": True, "created_at": now,
        "updated_at": now, "version": 1, "_town": town,
    }


# -- planning: the steps each suggestion went through -----------------------------------------------

@dataclass(slots=True)
class _Plan:
    county: _County
    state: State
    colour: str
    seed: int
    created: dt.datetime = dt.datetime.min
    submitted: dt.datetime | None = None
    series: str = ""
    number: int | None = None


def _plan_all(counties: list[_County], n: int, rng: random.Random, clock: _Clock) -> list[_Plan]:
    """Who, in which state and colour, and the number each gets: numbers follow the order of submission."""
    share = (100 - sum(HEAVY.values())) * 10 // sum(c.slug not in HEAVY for c in counties)
    weights = {c.slug: HEAVY[c.slug] * 10 if c.slug in HEAVY else share for c in counties}  # per mille
    by_slug = {c.slug: c for c in counties}
    where = _allocate(weights, n)
    states = _allocate(STATE_WEIGHTS, n)
    rng.shuffle(where)
    rng.shuffle(states)
    running = [i for i, s in enumerate(states) if s in (State.ASSIGNED, State.REHANDLING)]
    colours = ["none"] * n
    for i, c in zip(running, _allocate(COLOUR_WEIGHTS, len(running)), strict=True):
        colours[i] = c
    plans = []
    for slug, state, colour in zip(where, states, colours, strict=True):
        plan = _Plan(by_slug[slug], state, colour, rng.getrandbits(48))
        steps, session_no, _ = _steps(plan, clock)
        times = _times(random.Random(plan.seed ^ 0x5EED), steps)  # noqa: S311 - demo data, not secrets
        plan.created, plan.series = times[0], series_of(TERM, session_no)
        plan.submitted = next((t for (a, _, _), t in zip(steps, times, strict=True) if a == Action.SUBMIT), None)
        plans.append(plan)
    plans.sort(key=lambda p: p.created)
    last: dict[tuple[int, str], int] = {}
    for p in sorted((p for p in plans if p.submitted), key=lambda p: p.submitted or p.created):
        key = (p.county.id, p.series)
        last[key] = last.get(key, 0) + 1
        p.number = last[key]
    return plans


def _steps(plan: _Plan, clock: _Clock) -> tuple[list[Step], int | None, _Choice]:
    rng = random.Random(plan.seed)  # noqa: S311 - demo data, not secrets
    choice = _choose(rng, plan.county)
    planner = _PLANNERS[plan.state]
    steps, session_no = planner(rng, clock, plan.county, choice, plan.colour)
    return steps, session_no, choice


class _Choice(NamedTuple):
    deputy: _Deputy
    topic: Topic
    issue: int
    cosigners: list[int]
    lead: int
    co: list[int]
    broad: bool
    key: bool


def _choose(rng: random.Random, county: _County) -> _Choice:
    topic = rng.choices(TOPICS, [t.weight for t in TOPICS])[0]
    deputy = rng.choice(county.deputies)
    others = [d.id for d in county.deputies if d.id != deputy.id]
    cosigners = rng.sample(others, min(len(others), rng.choice((0, 0, 1, 1, 2, 3))))
    unit_ids = sorted(county.units.values())
    lead = county.units.get(topic.lead) or rng.choice(unit_ids)
    co = [county.units[s] for s in topic.co if s in county.units and rng.random() < 0.25 and county.units[s] != lead]
    issue = rng.randrange(len(topic.issues))
    return _Choice(deputy, topic, issue, cosigners, lead, co, rng.random() < 0.08, rng.random() < 0.03)


def _deadline_for(rng: random.Random, clock: _Clock, colour: str, latest: int) -> dt.date:
    """A deadline of this colour today (near-due window: the default 15 days)."""
    if colour == "red":
        return clock.today - _days(rng.randint(1, 60))
    if colour == "yellow":
        return clock.today + _days(rng.randint(0, 14))
    return clock.today + _days(rng.randint(16, latest))


def _opening(rng: random.Random, choice: _Choice, submitted: dt.date, *, confirmed: bool = True) -> list[Step]:
    created = submitted - _days(rng.randint(0, 6))
    steps: list[Step] = [("create", created, {"cosigners": sorted(choice.cosigners)})]
    if confirmed:
        signed = sorted(created + _days(rng.randint(0, (submitted - created).days)) for _ in choice.cosigners)
        steps += [("cosign", day, {"deputy_id": d}) for day, d in zip(signed, sorted(choice.cosigners), strict=True)]
        steps.append((Action.SUBMIT, submitted, {}))
    return steps


def _submitted_before(rng: random.Random, clock: _Clock, assigned: dt.date) -> tuple[int | None, dt.date]:
    """Suggestions assigned within weeks of a session were handed in at it; the rest between sessions."""
    for k, held in enumerate(clock.sessions, start=1):
        if held + _days(12) <= assigned <= held + _days(75):
            return k, held + _days(rng.randint(0, 3))
    return None, max(assigned - _days(rng.randint(5, 30)), clock.sessions[0])


def _historic(rng: random.Random, clock: _Clock, latest: dt.date) -> tuple[int | None, dt.date]:
    held = [k for k, day in enumerate(clock.sessions, start=1) if day <= latest]
    if held and rng.random() < 0.8:
        k = rng.choice(held)
        return k, clock.sessions[k - 1] + _days(rng.randint(0, 3))
    start = clock.sessions[0]
    return None, start + _days(rng.randint(0, max(0, (latest - start).days)))


def _between(rng: random.Random, start: dt.date, end: dt.date) -> dt.date:
    return start + _days(rng.randint(0, max(0, (end - start).days)))


def _up_to_assignment(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, assigned: dt.date, *,
                      reassigned: bool = False) -> tuple[list[Step], int | None]:
    """Drafted, submitted and accepted before ``assigned``; then assigned (perhaps to the wrong unit first)."""
    first = assigned - _days(rng.randint(3, 10)) if reassigned else assigned
    session_no, submitted = _submitted_before(rng, clock, first)
    steps = _opening(rng, choice, submitted)
    accepted = _between(rng, submitted, first - _days(1)) if first > submitted else submitted
    steps.append((Action.ACCEPT, accepted, {}))
    others = sorted(set(county.units.values()) - {choice.lead})
    if reassigned and others:
        wrong = rng.choice(others)
        steps.append((Action.ASSIGN, first, {"lead": wrong, "co": [], "broad": choice.broad}))
        steps.append((Action.REQUEST_REASSIGN, _between(rng, first, assigned - _days(1)), {"unit": wrong}))
        steps.append((Action.REASSIGN, assigned, {"lead": choice.lead, "co": choice.co, "broad": choice.broad}))
    else:
        steps.append((Action.ASSIGN, assigned, {"lead": choice.lead, "co": choice.co, "broad": choice.broad}))
    if choice.key:
        steps.append((Action.MARK_KEY, assigned, {}))
    return steps, session_no


def _handling(rng: random.Random, choice: _Choice, start: dt.date, end: dt.date) -> list[Step]:
    """Contact with the deputy and the co-units' opinions between assignment and ``end``."""
    steps: list[Step] = []
    if rng.random() < 0.5:
        way = rng.randrange(len(CONTACTS))
        steps.append((Action.CONTACT, _between(rng, start, end), {"way": way, "unit": choice.lead}))
    steps += [(Action.CO_OPINION, _between(rng, start, end), {"unit": u}) for u in choice.co if rng.random() < 0.6]
    return sorted(steps, key=lambda s: s[1])


def _reply_class(rng: random.Random) -> str:
    return rng.choices(("A", "B", "C"), (45, 40, 15))[0]


def _answered(rng: random.Random, clock: _Clock, county: _County, choice: _Choice,
              replied: dt.date) -> tuple[list[Step], int | None]:
    """Everything up to a reply on ``replied``: on time for most, a few weeks late for some."""
    months = county.hard_months if choice.broad else county.months
    due = replied + _days(rng.randint(0, 60)) if rng.random() < 0.85 else replied - _days(rng.randint(1, 30))
    assigned = min(add_months(due, -months), replied - _days(7))
    steps, session_no = _up_to_assignment(rng, clock, county, choice, assigned, reassigned=rng.random() < 0.05)
    steps += _handling(rng, choice, assigned, replied)
    steps.append((Action.REPLY, replied, {"class": _reply_class(rng)}))
    return steps, session_no


def _evaluation(rng: random.Random) -> dict[str, Any]:
    return {"evaluation": "satisfied" if rng.random() < 0.65 else "basically"}


def _plan_draft(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                ) -> tuple[list[Step], int | None]:
    return _opening(rng, choice, clock.last - _days(rng.randint(0, 30)), confirmed=False), None


def _plan_discarded(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    created = clock.last - _days(rng.randint(5, 60))
    steps = _opening(rng, choice, created, confirmed=False)
    steps.append((Action.DISCARD, _between(rng, created, clock.last), {}))
    return steps, None


def _plan_submitted(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    return _opening(rng, choice, clock.last - _days(rng.randint(0, 20))), None


def _plan_reviewed(action: Action, lo: int, hi: int) -> Any:
    def plan(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
             ) -> tuple[list[Step], int | None]:
        submitted = clock.last - _days(rng.randint(lo, hi))
        steps = _opening(rng, choice, submitted)
        steps.append((action, _between(rng, submitted, min(submitted + _days(7), clock.last)), {}))
        if action == Action.ACCEPT and choice.key:
            steps.append((Action.MARK_KEY, steps[-1][1], {}))
        return steps, None
    return plan


def _plan_reference(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    session_no, submitted = _historic(rng, clock, clock.last - _days(10))
    steps = _opening(rng, choice, submitted)
    steps.append((Action.TO_REFERENCE, submitted + _days(rng.randint(2, 10)), {}))
    return steps, session_no


def _plan_assigned(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                   ) -> tuple[list[Step], int | None]:
    months = county.hard_months if choice.broad else county.months
    assigned = min(add_months(_deadline_for(rng, clock, colour, 85), -months), clock.last)
    steps, session_no = _up_to_assignment(rng, clock, county, choice, assigned, reassigned=rng.random() < 0.05)
    return steps + _handling(rng, choice, assigned, clock.last), session_no


def _plan_reassign_requested(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                             ) -> tuple[list[Step], int | None]:
    assigned = clock.last - _days(rng.randint(1, 12))
    steps, session_no = _up_to_assignment(rng, clock, county, choice._replace(key=False), assigned)
    steps.append((Action.REQUEST_REASSIGN, _between(rng, assigned, clock.last), {"unit": choice.lead}))
    return steps, session_no


def _plan_replied(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                  ) -> tuple[list[Step], int | None]:
    return _answered(rng, clock, county, choice, clock.last - _days(rng.randint(0, 44)))


def _plan_evaluated(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                    ) -> tuple[list[Step], int | None]:
    evaluated = clock.last - _days(rng.randint(0, 59))
    steps, session_no = _answered(rng, clock, county, choice, evaluated - _days(rng.randint(3, 30)))
    return [*steps, (Action.EVALUATE_SATISFIED, evaluated, _evaluation(rng))], session_no


def _plan_rehandling(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                     ) -> tuple[list[Step], int | None]:
    judged = min(add_months(_deadline_for(rng, clock, colour, 28), -county.rehandle_months), clock.last)
    steps, session_no = _answered(rng, clock, county, choice, judged - _days(rng.randint(3, 25)))
    steps.append((Action.EVALUATE_DISSATISFIED, judged, {}))
    if rng.random() < 0.3:
        steps.append((Action.CONTACT, _between(rng, judged, clock.last), {"way": 0, "unit": choice.lead}))
    return steps, session_no


def _plan_closed(rng: random.Random, clock: _Clock, county: _County, choice: _Choice, colour: str
                 ) -> tuple[list[Step], int | None]:
    """Forward from a past submission; tried again from an earlier one when it would end after today."""
    months = county.hard_months if choice.broad else county.months
    for attempt in range(40):
        session_no, submitted = _historic(rng, clock, clock.last - _days(60 if attempt < 20 else 500))
        steps = _opening(rng, choice, submitted)
        day = submitted + _days(rng.randint(1, 4))
        if rng.random() < 0.05:  # returned for more detail, then handed in again under the same number
            steps += [(Action.RETURN, day, {}), (Action.SUBMIT, day + _days(2), {})]
            day += _days(rng.randint(3, 6))
        steps.append((Action.ACCEPT, day, {}))
        assigned = day + _days(rng.randint(10, 45) if session_no else rng.randint(3, 20))
        steps.append((Action.ASSIGN, assigned, {"lead": choice.lead, "co": choice.co, "broad": choice.broad}))
        if choice.key:
            steps.append((Action.MARK_KEY, assigned, {}))
        due = add_months(assigned, months)
        replied = (_between(rng, assigned + _days(20), due) if rng.random() < 0.88
                   else due + _days(rng.randint(1, 30)))
        steps += _handling(rng, choice, assigned, replied)
        steps.append((Action.REPLY, replied, {"class": _reply_class(rng)}))
        outcome = rng.random()
        if outcome < 0.12:  # the deputy never evaluated: the office closes it
            end = replied + _days(rng.randint(30, 90))
        else:
            judged = replied + _days(rng.randint(3, 30))
            if outcome < 0.20:  # dissatisfied: handled again within the re-handling deadline
                steps.append((Action.EVALUATE_DISSATISFIED, judged, {}))
                again = _between(rng, judged + _days(7), add_months(judged, county.rehandle_months) + _days(5))
                steps.append((Action.REPLY, again, {"class": rng.choice("AB")}))
                judged = again + _days(rng.randint(3, 20))
            steps.append((Action.EVALUATE_SATISFIED, judged, _evaluation(rng)))
            end = judged + _days(rng.randint(2, 20))
        steps.append((Action.CLOSE, end, {}))
        if end <= clock.last:
            return steps, session_no
    raise RuntimeError("no closed history fits before today")


_PLANNERS: dict[State, Any] = {
    State.DRAFT: _plan_draft, State.SUBMITTED: _plan_submitted,
    State.RETURNED: _plan_reviewed(Action.RETURN, 5, 40), State.ACCEPTED: _plan_reviewed(Action.ACCEPT, 3, 30),
    State.REFERENCE: _plan_reference, State.ASSIGNED: _plan_assigned,
    State.REASSIGN_REQUESTED: _plan_reassign_requested, State.REPLIED: _plan_replied,
    State.EVALUATED: _plan_evaluated, State.REHANDLING: _plan_rehandling, State.CLOSED: _plan_closed,
    State.DISCARDED: _plan_discarded,
}


def _times(rng: random.Random, steps: Sequence[Step]) -> list[dt.datetime]:
    """Office hours in China on each step's day, strictly increasing."""
    times: list[dt.datetime] = []
    for _, day, _ in steps:
        at = dt.datetime(day.year, day.month, day.day, 8, 30, tzinfo=CST) + dt.timedelta(minutes=rng.randint(0, 540))
        if times and at <= times[-1]:
            at = times[-1] + dt.timedelta(minutes=rng.randint(1, 90))
        times.append(at)
    return [t.astimezone(dt.UTC) for t in times]


# -- replay: the rows the services would have written -----------------------------------------------

@dataclass
class _Rows:
    suggestion: dict[str, Any]
    cosigners: list[dict[str, Any]] = field(default_factory=list)
    assignments: list[dict[str, Any]] = field(default_factory=list)
    replies: list[dict[str, Any]] = field(default_factory=list)
    commitments: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)


def _texts(rng: random.Random, county: _County, choice: _Choice) -> tuple[str, str, dict[str, str]]:
    town = county.towns[choice.deputy.town]
    words = {"town": town.name, "village": rng.choice(town.villages),
             "river": rng.choice(RIVERS.get(county.slug, ("右江",))), "product": PRODUCTS[county.slug],
             "county": county.name}
    issue = choice.topic.issues[choice.issue]
    proposals = [p.format(**words) for p in (*issue.proposals, rng.choice(choice.topic.general))]
    content = (f"{issue.problem.format(**words)}，群众反映强烈。为切实解决这一问题，建议："
               + "；".join(f"{NUMERALS[i]}是{p}" for i, p in enumerate(proposals)) + "。")
    words["done"] = proposals[0]
    return issue.title.format(**words), content, words


def _replay(plan: _Plan, clock: _Clock) -> _Rows:
    """Apply the plan's steps through the workflow table; the rows follow from the state each step leaves."""
    steps, session_no, choice = _steps(plan, clock)
    times = _times(random.Random(plan.seed ^ 0x5EED), steps)  # noqa: S311 - demo data, not secrets
    text_rng = random.Random(plan.seed ^ 0x7E47)  # noqa: S311 - demo data, not secrets
    county, tid = plan.county, plan.county.id
    title, content, words = _texts(text_rng, county, choice)
    s: dict[str, Any] = {
        "tenant_id": tid, "series": plan.series, "term": TERM, "session_no": session_no, "number": plan.number,
        "title": title, "content": content, "category": choice.topic.category, "state": State.DRAFT.value,
        "lead_deputy_id": choice.deputy.id, "org_unit_id": county.root_id, "created_by": choice.deputy.user_id,
        "client_token": None, "is_key": False, "supervisor_user_id": None, "lead_unit_id": None, "broad": False,
        "round": 1,
        "assigned_at": None, "deadline": None, "reply_class": None, "evaluation": None, "submitted_at": None,
        "replied_at": None, "closed_at": None, "created_at": times[0], "updated_at": times[0], "version": 1,
        "joint_station_id": None,
    }
    rows = _Rows(s)
    active: list[dict[str, Any]] = []
    deputy_user = choice.deputy.user_id
    for (action, _, params), at in zip(steps, times, strict=True):
        actor: int | None = county.staff_user
        data: dict[str, Any] = {}
        if action == "create":
            actor, data = deputy_user, {"cosigners": params["cosigners"]}
            rows.cosigners = [{"tenant_id": tid, "deputy_id": d, "confirmed_at": None} for d in params["cosigners"]]
        elif action == "cosign":
            actor, data = None, {"deputy_id": params["deputy_id"]}
            next(c for c in rows.cosigners if c["deputy_id"] == params["deputy_id"])["confirmed_at"] = at
        else:
            state = workflow.step(State(s["state"]), Action(action)).target
            before = dict(s)
            s["state"] = state.value
            if action == Action.SUBMIT:
                actor = deputy_user
                s["submitted_at"] = at
            elif action in (Action.ACCEPT, Action.RETURN, Action.TO_REFERENCE):
                data = {"note": "" if action == Action.ACCEPT else text_rng.choice(
                    RETURN_NOTES if action == Action.RETURN else REFERENCE_NOTES)}
                if action == Action.TO_REFERENCE:
                    s["closed_at"] = at
            elif action in (Action.ASSIGN, Action.REASSIGN):
                for old in active:
                    old["active"] = False
                months = county.hard_months if params["broad"] else county.months
                s["broad"], s["deadline"] = params["broad"], add_months(at.astimezone(CST).date(), months)
                s["lead_unit_id"] = params["lead"]
                s["assigned_at"] = s["assigned_at"] or at
                active = [{"tenant_id": tid, "handling_unit_id": u, "lead": u == params["lead"], "round": s["round"],
                           "assigned_at": at, "active": True} for u in [params["lead"], *params["co"]]]
                rows.assignments += active
                data = {"lead_unit_id": params["lead"], "co_unit_ids": sorted(params["co"]),
                        "deadline": s["deadline"].isoformat()}
            elif action == Action.MARK_KEY:
                s["is_key"], s["supervisor_user_id"] = True, county.leader_user
                data = {"supervisor_user_id": county.leader_user}
            elif action == Action.REQUEST_REASSIGN:
                actor = county.handlers.get(params["unit"])
                data = {"reason": REASSIGN_REASON, "handling_unit_id": params["unit"]}
            elif action == Action.CONTACT:
                way, summary = CONTACTS[params["way"]]
                actor = county.handlers.get(params["unit"])
                data = {"way": way, "summary": summary.format(**words), "handling_unit_id": params["unit"]}
            elif action == Action.CO_OPINION:
                actor = county.handlers.get(params["unit"])
                data = {"opinion": CO_OPINION, "handling_unit_id": params["unit"]}
            elif action == Action.REPLY:
                actor = _reply(rows, county, s, params["class"], at, words, text_rng, clock)
                data = {"reply_class": params["class"], "on_time": rows.replies[-1]["on_time"],
                        "handling_unit_id": rows.replies[-1]["handling_unit_id"]}
            elif action in (Action.EVALUATE_SATISFIED, Action.EVALUATE_DISSATISFIED):
                actor = deputy_user
                s["evaluation"] = params.get("evaluation", "dissatisfied")
                data = {"evaluation": s["evaluation"], "comment": ""}
                if action == Action.EVALUATE_DISSATISFIED:
                    s["round"] += 1
                    s["deadline"] = add_months(at.astimezone(CST).date(), county.rehandle_months)
                    s["reply_class"] = None
                    for a in active:
                        a["round"] = s["round"]
                    data.update(comment=DISSATISFIED, deadline=s["deadline"].isoformat())
            elif action == Action.CLOSE:
                s["closed_at"] = at
                data = {"note": ""}
            elif action == Action.DISCARD:
                actor = deputy_user
                s["closed_at"] = at
            if any(before[k] != s[k] for k in ("state", "number", "deadline", "round", "reply_class",
                                               "evaluation", "is_key", "submitted_at", "closed_at")):
                s["version"] += 1
        s["updated_at"] = at
        rows.events.append({"tenant_id": tid, "subject_type": SUBJECT, "at": at, "actor_user_id": actor,
                            "action": str(action), "data": data})
    if s["state"] != plan.state.value:
        raise AssertionError(f"planned {plan.state}, replayed to {s['state']}")
    return rows


def _reply(rows: _Rows, county: _County, s: dict[str, Any], reply_class: str, at: dt.datetime,
           words: dict[str, str], rng: random.Random, clock: _Clock) -> int | None:
    """The lead unit's reply row (and a B reply's commitment); returns who replied."""
    lead = next(a["handling_unit_id"] for a in reversed(rows.assignments) if a["lead"] and a["active"])
    day = at.astimezone(CST).date()
    on_time = s["deadline"] is None or day <= s["deadline"]
    handler = county.handlers.get(lead)
    rows.replies.append({"tenant_id": county.id, "handling_unit_id": lead, "round": s["round"],
                         "reply_class": reply_class, "content": REPLIES[reply_class].format(title=s["title"], **words),
                         "signed_by": _name(rng, rng.random() < 0.2), "replied_by": handler, "replied_at": at,
                         "on_time": on_time})
    if reply_class == "B":
        due = day + _days(rng.randint(60, 300))
        done = due <= clock.last and rng.random() < 0.7
        fulfilled = dt.datetime.combine(_between(rng, day + _days(7), due), dt.time(10, tzinfo=CST))
        rows.commitments.append({"tenant_id": county.id, "handling_unit_id": lead, "content": words["done"],
                                 "due_date": due, "fulfilment_note": "已按承诺完成。" if done else "",
                                 "fulfilled_at": fulfilled.astimezone(dt.UTC) if done else None, "_by": handler})
    s["reply_class"], s["replied_at"] = reply_class, at
    return handler


# -- inserting --------------------------------------------------------------------------------------

def _insert(session: Session, table: Any, rows: list[dict[str, Any]], *, returning: bool = False) -> list[int]:
    """One executemany INSERT (Core, no ORM flush); with ``returning`` the new ids in the rows' order."""
    if not rows:
        return []
    assert isinstance(table, Table)
    clean = [{k: v for k, v in row.items() if not k.startswith("_")} for row in rows]
    if returning:
        stmt = insert(table).returning(table.c.id, sort_by_parameter_order=True)
        return [row[0] for row in session.execute(stmt, clean)]
    session.execute(insert(table), clean)
    return []


def _insert_batches(session: Session, plans: list[_Plan], clock: _Clock) -> Iterator[tuple[int, Counter[str]]]:
    """Parents first, their ids read back in order, then the children; BATCH suggestions at a time."""
    counters = {(t, series): n for t, series, n in session.execute(
        select(SeriesCounter.tenant_id, SeriesCounter.series, SeriesCounter.last_number))}
    for plan in plans:
        if plan.number is not None:
            plan.number += counters.get((plan.county.id, plan.series), 0)
    for start in range(0, len(plans), BATCH):
        batch = [_replay(p, clock) for p in plans[start:start + BATCH]]
        ids = _insert(session, Suggestion.__table__, [r.suggestion for r in batch], returning=True)
        children: dict[str, list[dict[str, Any]]] = defaultdict(list)
        for sid, rows in zip(ids, batch, strict=True):
            for name in ("cosigners", "assignments", "replies", "commitments", "events"):
                for row in getattr(rows, name):
                    row["suggestion_id" if name != "events" else "subject_id"] = sid
                    children[name].append(row)
        _insert(session, Cosigner.__table__, children["cosigners"])
        _insert(session, Assignment.__table__, children["assignments"])
        _insert(session, Reply.__table__, children["replies"])
        commitment_ids = _insert(session, Commitment.__table__, children["commitments"], returning=True)
        events = children["events"] + [
            {"tenant_id": c["tenant_id"], "subject_type": SUBJECT, "subject_id": c["suggestion_id"],
             "at": c["fulfilled_at"], "actor_user_id": c["_by"], "action": "commitment_fulfilled",
             "data": {"commitment_id": i}}
            for i, c in zip(commitment_ids, children["commitments"], strict=True) if c["fulfilled_at"]]
        _insert(session, TimelineEvent.__table__, events)
        yield start + len(batch), Counter(r.suggestion["state"] for r in batch)
    _bump_counters(session, counters, plans)


def _bump_counters(session: Session, counters: dict[tuple[int, str], int], plans: list[_Plan]) -> None:
    """The series' counters continue after the generated numbers, so the next submission gets the next one."""
    last: dict[tuple[int, str], int] = {}
    for p in plans:
        if p.number is not None:
            key = (p.county.id, p.series)
            last[key] = max(last.get(key, 0), p.number)
    for (tenant_id, series), number in sorted(last.items()):
        if (tenant_id, series) in counters:
            session.execute(update(SeriesCounter).where(
                SeriesCounter.tenant_id == tenant_id, SeriesCounter.series == series).values(last_number=number))
        else:
            session.execute(insert(SeriesCounter).values(tenant_id=tenant_id, series=series,
                                                                  last_number=number))
